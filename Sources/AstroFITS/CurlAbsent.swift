#if os(Linux)
/// The six libcurl functions the static cfitsio archive refers to (its https:// and ftps://
/// drivers), so that libcurl and its ~25 libraries are not loaded by every process (Package.swift
/// says why). Such names are refused before cfitsio sees them (`FITSStatus.checkReadable`:
/// "download the file first"); http://, ftp://, file:// and mem:// keep cfitsio's own drivers.
/// Should one be reached anyway, each fails as libcurl does when it cannot start.

@_cdecl("curl_global_init") public func curl_global_init(_ flags: Int) -> Int32 { 2 /* CURLE_FAILED_INIT */ }
@_cdecl("curl_global_cleanup") public func curl_global_cleanup() {}
@_cdecl("curl_easy_init") public func curl_easy_init() -> OpaquePointer? { nil }
@_cdecl("curl_easy_setopt") public func curl_easy_setopt(_ handle: OpaquePointer?, _ option: Int32) -> Int32 { 2 }
@_cdecl("curl_easy_perform") public func curl_easy_perform(_ handle: OpaquePointer?) -> Int32 { 2 }
@_cdecl("curl_easy_cleanup") public func curl_easy_cleanup(_ handle: OpaquePointer?) {}
#endif
