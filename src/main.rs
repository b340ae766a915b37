//! `aws-session`: parse the command line, run one command, map errors to exit codes.

use aws_session::{cli, cmd, env::Env};

fn main() {
    aws_session::error::install_panic_hook();
    let env = Env::from_process();
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let result =
        cli::parse(args, |k| env.get(k).map(str::to_string)).and_then(|opts| cmd::run(&opts, &env));
    if let Err(e) = result {
        aws_session::msg::say(&e);
        std::process::exit(e.exit_code());
    }
}
