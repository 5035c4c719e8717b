//! The `ringline` binary: a thin shell over [`ringline::cli`].

fn main() -> std::process::ExitCode {
    ringline::cli::main()
}
