//! Flags, with the workbook's rule for bad input: one line on stderr and exit
//! code 2, never a panic and never a page of usage text.
//!
//! Every listing's flags are also data. Given first, two flags that no
//! listing declares make [`parse`] answer for the tools and exit:
//! - `--describe-flags` prints the flags as JSON ([`FlagSpec`]: name, type,
//!   default, range, help) and exits 0;
//! - `--check-flags FLAG...` parses the rest and exits 0, or 2 with the one
//!   line, and runs nothing.
//!
//! A numeric flag declares its range with clap's
//! `value_parser = clap::value_parser!(u64).range(1..=50)`; the range is read
//! back from the parser itself, so it is declared once.
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
    let mut args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    match args.get(1).and_then(|flag| flag.to_str()) {
        Some(DESCRIBE) => {
            let flags = describe(&T::command());
            println!("{}", serde_json::to_string(&flags).expect("flags always serialize"));
            std::process::exit(0);
        }
        Some(CHECK) => {
            args.remove(1);
            let code = match T::try_parse_from(&args) {
                Ok(_) => 0,
                Err(error) if error.kind() == ErrorKind::DisplayHelp => 0,
                Err(error) => {
                    eprintln!("{}", first_line(&error));
                    2
                }
            };
            std::process::exit(code);
        }
        _ => {}
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

/// Bad input found at run time, where no parser could see it (a folder that
/// does not exist): prints `error: {message}` as one line on stderr and exits
/// with code 2, as a bad flag does. Never for a bug in the listing: that
/// panics.
///
/// ```no_run
/// let dir = std::path::Path::new("/no/such/folder");
/// let file = std::fs::File::create(dir.join("prices.csv"))
///     .unwrap_or_else(|e| support::cli::refuse(format!("cannot create a file in {dir:?}: {e}")));
/// ```
pub fn refuse(message: impl std::fmt::Display) -> ! {
    let message = message.to_string();
    eprintln!("error: {}", message.lines().next().unwrap_or("bad input"));
    std::process::exit(2);
}

/// Given first, prints the listing's flags as JSON and exits 0.
pub const DESCRIBE: &str = "--describe-flags";
/// Given first, checks the flags that follow it, runs nothing, and exits 0
/// or 2.
pub const CHECK: &str = "--check-flags";

/// One flag, as `--describe-flags` prints it.
#[derive(Debug, PartialEq, serde::Serialize)]
pub struct FlagSpec {
    /// Its long name, without the dashes: `tick-ms`.
    pub name: String,
    /// `u64`, `u32`, `i64`, `usize`, `bool`, `string`, `path`, `choice` or
    /// `other`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Whether it takes a list (given again, or comma-separated).
    pub list: bool,
    /// Its default, as it would be typed; none for a flag with no default.
    pub default: Option<String>,
    /// The smallest value it accepts, for a whole number with a declared
    /// range; none when it accepts its type's whole range.
    pub min: Option<i128>,
    /// The largest value it accepts, as `min`.
    pub max: Option<i128>,
    /// The values it accepts, for a choice.
    pub choices: Vec<String>,
    /// Its help line.
    pub help: String,
}

/// The visible flags of `command` as data; a hidden flag (a child's role)
/// is left out.
///
/// ```
/// use clap::{CommandFactory, Parser};
///
/// #[derive(Parser)]
/// struct Args {
///     /// How often the heartbeat ticks, in ms.
///     #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=50))]
///     tick_ms: u64,
/// }
///
/// let flags = support::cli::describe(&Args::command());
/// assert_eq!((flags[0].name.as_str(), flags[0].kind), ("tick-ms", "u64"));
/// assert_eq!((flags[0].min, flags[0].max), (Some(1), Some(50)));
/// assert_eq!(flags[0].default.as_deref(), Some("5"));
/// ```
pub fn describe(command: &clap::Command) -> Vec<FlagSpec> {
    use std::any::TypeId;
    let whole: [(TypeId, &str, i128, i128); 6] = [
        (TypeId::of::<u64>(), "u64", 0, u64::MAX as i128),
        (TypeId::of::<u32>(), "u32", 0, u32::MAX as i128),
        (TypeId::of::<u16>(), "u16", 0, u16::MAX as i128),
        (TypeId::of::<u8>(), "u8", 0, u8::MAX as i128),
        (TypeId::of::<i64>(), "i64", i64::MIN as i128, i64::MAX as i128),
        (TypeId::of::<usize>(), "usize", 0, usize::MAX as i128),
    ];
    let mut flags = Vec::new();
    for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
        let (Some(long), parser) = (arg.get_long(), arg.get_value_parser()) else { continue };
        if matches!(long, "help" | "version") {
            continue;
        }
        let defaults: Vec<String> =
            arg.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect();
        let takes_value = arg.get_num_args().is_none_or(|n| n.takes_values());
        let choices: Vec<String> = parser
            .possible_values()
            .map(|values| values.map(|v| v.get_name().to_string()).collect())
            .unwrap_or_default();
        let mut spec = FlagSpec {
            name: long.to_string(),
            kind: "other",
            list: matches!(arg.get_action(), clap::ArgAction::Append),
            default: (!defaults.is_empty()).then(|| defaults.join(",")),
            min: None,
            max: None,
            choices: Vec::new(),
            help: arg.get_help().map(|h| h.to_string()).unwrap_or_default(),
        };
        let type_id = parser.type_id();
        if !takes_value || type_id == TypeId::of::<bool>() {
            spec.kind = "bool";
            spec.default.get_or_insert_with(|| "false".to_string());
        } else if let Some(&(_, name, lowest, highest)) = whole.iter().find(|w| type_id == w.0) {
            spec.kind = name;
            let accepts = |value: i128| accepts(arg, long, &value.to_string());
            let inside = defaults.first().and_then(|d| d.parse::<i128>().ok());
            if let Some(inside) = inside.filter(|d| accepts(*d)) {
                let range = (edge(lowest, inside, &accepts), edge(highest, inside, &accepts));
                if range != (lowest, highest) {
                    (spec.min, spec.max) = (Some(range.0), Some(range.1));
                }
            }
        } else if !choices.is_empty() {
            (spec.kind, spec.choices) = ("choice", choices);
        } else if type_id == TypeId::of::<String>() {
            spec.kind = "string";
        } else if type_id == TypeId::of::<std::path::PathBuf>() {
            spec.kind = "path";
        }
        flags.push(spec);
    }
    flags
}

/// Whether `arg`, alone, accepts `--long value`.
fn accepts(arg: &clap::Arg, long: &str, value: &str) -> bool {
    let alone = clap::Command::new("probe").arg(arg.clone().required(false));
    alone.try_get_matches_from(["probe", &format!("--{long}"), value]).is_ok()
}

/// The last accepted value from `inside` (accepted) toward `limit`: the
/// accepted values of a ranged parser are one interval, so a binary search
/// finds its edge.
fn edge(limit: i128, inside: i128, accepts: &dyn Fn(i128) -> bool) -> i128 {
    let (mut good, mut bad) = (inside, limit);
    if accepts(limit) {
        return limit;
    }
    while (bad - good).abs() > 1 {
        let middle = good + (bad - good) / 2;
        if accepts(middle) { good = middle } else { bad = middle }
    }
    good
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

    #[derive(Parser)]
    struct Many {
        /// Pages.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..=300))]
        pages: u32,
        /// Sizes.
        #[arg(long, value_delimiter = ',', default_values_t = [40, 1_000],
              value_parser = clap::value_parser!(u64).range(1..=100_000))]
        sizes: Vec<u64>,
        /// No range.
        #[arg(long, default_value_t = 3)]
        loose: u64,
        /// Quiet.
        #[arg(long)]
        quiet: bool,
        #[arg(long, hide = true)]
        child: Option<String>,
        /// Where.
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    }

    #[test]
    fn flags_are_described_with_their_ranges_read_from_their_parsers() {
        use clap::CommandFactory;
        let flags = describe(&Many::command());
        let names: Vec<(&str, &str)> = flags.iter().map(|f| (f.name.as_str(), f.kind)).collect();
        assert_eq!(
            names,
            [
                ("pages", "u32"),
                ("sizes", "u64"),
                ("loose", "u64"),
                ("quiet", "bool"),
                ("dir", "path")
            ]
        );
        assert_eq!((flags[0].min, flags[0].max, &flags[0].help[..]), (Some(2), Some(300), "Pages"));
        assert_eq!((flags[1].min, flags[1].max, flags[1].list), (Some(1), Some(100_000), true));
        assert_eq!(flags[1].default.as_deref(), Some("40,1000"));
        assert_eq!((flags[2].min, flags[2].max), (None, None), "no range declared");
        assert_eq!(flags[3].default.as_deref(), Some("false"));
        assert_eq!(flags[4].default, None);
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
