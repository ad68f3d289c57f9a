import AstroFuzz
import Foundation

#if LIBFUZZER
// The coverage-guided build (make fuzz-libfuzzer): libFuzzer's driver owns the command line.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { LibFuzzerEntry.run($0, $1) })
#else
FuzzCommand.main()
#endif
