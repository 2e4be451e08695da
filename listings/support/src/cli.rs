//! Flags, with the workbook's rule for bad input: one line on stderr and exit
//! code 2, never a panic and never a page of usage text.
//!
//! ```no_run
//! use clap::Parser;
//!
//! /// Fetch pages from the loopback ticker API.
//! #[derive(Parser)]
//! struct Args {
//!     /// How many pages to fetch.
//!     #[arg(long, default_value_t = 10)]
//!     pages: usize,
//! }
//!
//! let args: Args = support::cli::parse();
//! assert!(args.pages > 0);
//! ```

use clap::Parser;
use clap::error::ErrorKind;

/// Parses the process's own arguments into `T`.
///
/// `--help` and `--version` print as clap prints them and exit 0. Any other
/// error prints its first line (`error: invalid value 'ten' for '--pages
/// <PAGES>': ...`) and exits with code 2.
pub fn parse<T: Parser>() -> T {
    parse_from(std::env::args_os())
}

/// Like [`parse`], from an explicit argument list whose first item is the
/// program name. The chapter tours use it to run a listing with chosen flags.
///
/// ```
/// use clap::Parser;
///
/// #[derive(Parser)]
/// struct Args {
///     #[arg(long, default_value_t = 3)]
///     pages: usize,
/// }
///
/// let args: Args = support::cli::parse_from(["tour", "--pages", "5"]);
/// assert_eq!(args.pages, 5);
/// ```
pub fn parse_from<T, I, S>(args: I) -> T
where
    T: Parser,
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    if !cfg!(target_os = "linux") {
        // The listings measure Linux itself: /proc, cgroups, fork, epoll.
        eprintln!(
            "error: this listing needs Linux (it measures /proc, cgroups, fork or epoll); \
             `cargo xtask book` shows the measured outputs on any OS"
        );
        std::process::exit(2);
    }
    match T::try_parse_from(args) {
        Ok(parsed) => parsed,
        Err(error) => match error.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => error.exit(),
            _ => {
                eprintln!("{}", first_line(&error));
                std::process::exit(2);
            }
        },
    }
}

/// The one line the workbook prints for a bad flag.
fn first_line(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    rendered.lines().next().unwrap_or("error: bad arguments").trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Parser, Debug)]
    struct Args {
        #[arg(long, default_value_t = 3)]
        pages: usize,
    }

    fn check(args: &[&str], expected: &str) {
        let error = Args::try_parse_from(args).unwrap_err();
        assert_eq!(first_line(&error), expected);
    }

    #[test]
    fn a_bad_value_is_reported_on_one_line() {
        check(
            &["listing", "--pages", "ten"],
            "error: invalid value 'ten' for '--pages <PAGES>': invalid digit found in string",
        );
        check(&["listing", "--pagse", "1"], "error: unexpected argument '--pagse' found");
    }
}
