#if os(Linux)
/// The six libcurl functions the static cfitsio archive refers to (its https:// driver), so that
/// libcurl and its ~25 libraries are not loaded by every process (Package.swift says why). No
/// astrotool path reaches them: every input name is opened as a local file, checked to exist
/// first. Should one be reached, each fails as libcurl does when it cannot start.

@_cdecl("curl_global_init") public func curl_global_init(_ flags: Int) -> Int32 { 2 /* CURLE_FAILED_INIT */ }
@_cdecl("curl_global_cleanup") public func curl_global_cleanup() {}
@_cdecl("curl_easy_init") public func curl_easy_init() -> OpaquePointer? { nil }
@_cdecl("curl_easy_setopt") public func curl_easy_setopt(_ handle: OpaquePointer?, _ option: Int32) -> Int32 { 2 }
@_cdecl("curl_easy_perform") public func curl_easy_perform(_ handle: OpaquePointer?) -> Int32 { 2 }
@_cdecl("curl_easy_cleanup") public func curl_easy_cleanup(_ handle: OpaquePointer?) {}
#endif
