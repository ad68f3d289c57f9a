import AstroFuzz

FuzzCommand.main()
