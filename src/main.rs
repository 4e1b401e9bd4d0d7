//! The forewarn binary: parse the command line, run the command, map the outcome to an exit code.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use forewarn::cli::{Cli, ColorChoice};
use forewarn::commands::{self, Context};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap's usage errors are ours to number: 2, as for every other usage error.
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let stdout_tty = std::io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => stdout_tty && !no_color,
    };
    let stderr_color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stderr().is_terminal() && !no_color,
    };
    let cwd = match &cli.directory {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().unwrap_or_else(|_| ".".into()),
    };
    // Text is wrapped to the terminal; piped, it is left whole for the reader's tools.
    let width = stdout_tty.then(terminal_width).flatten();
    let ctx = Context { cwd, color, width };
    match commands::run(cli, &ctx) {
        Ok(outcome) => {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(outcome.stderr.as_bytes());
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            // A closed pipe (`forewarn check | head`) is not an error.
            let _ = out.write_all(outcome.stdout.as_bytes());
            if let Some(report) = outcome.stdout_json {
                let _ = forewarn::output::json::write(&report, &mut out);
                // The process ends here: freeing every finding one by one (there may be a
                // hundred thousand) would only delay the exit.
                std::mem::forget(report);
            }
            let _ = out.flush();
            ExitCode::from(outcome.code)
        }
        Err(e) => {
            let _ = std::io::stderr()
                .lock()
                .write_all(e.render(stderr_color).as_bytes());
            ExitCode::from(2)
        }
    }
}

/// The terminal's width in columns: what the terminal says, else `COLUMNS`.
fn terminal_width() -> Option<usize> {
    console::Term::stdout()
        .size_checked()
        .map(|(_, cols)| usize::from(cols))
        .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
        .filter(|&w| w >= 20)
}
