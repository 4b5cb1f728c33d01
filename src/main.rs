fn main() -> std::process::ExitCode {
    procdoc::cli::run()
}
