//! The `workbook` mdBook preprocessor: puts listings, measured outputs,
//! metrics and exercises into the pages, and refuses to let a directive it
//! cannot resolve reach the HTML.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;
use std::path::Path;

use anyhow::{Result, bail};
use mdbook_preprocessor::book::{Book, Chapter};
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

use crate::condition::{self, Figures};
use crate::figure::{escape, figure};
use crate::fingerprint::fingerprint;
use crate::output::Output;
use crate::project::{Listing, Project};
use crate::quiz::quiz;
use crate::versus::{Comparison, versus};

/// A directive of the book: `{{#name args...}}` in a page.
struct Directive {
    name: &'static str,
    /// Its form, for the error a page gets when it writes it wrong.
    form: &'static str,
    /// Its replacement text, from the words after its name; [`WRONG`] when
    /// they do not fit its form.
    expand: fn(&mut Pages<'_>, &[&str]) -> Result<String, String>,
}

/// Every directive the book knows, in the order errors list them: a new
/// directive is one entry here, and its function below.
const DIRECTIVES: &[Directive] = &[
    Directive {
        name: "listing",
        form: "{{#listing chNN/name[:anchor]}} or {{#listing path/under/listings.rs[:anchor]}}",
        expand: |pages, args| pages.listing_directive(args),
    },
    Directive {
        name: "output",
        form: "{{#output chNN/name}}",
        expand: |pages, args| pages.output_directive(args),
    },
    Directive {
        name: "metric",
        form: "{{#metric chNN/name metric}}",
        expand: |pages, args| pages.metric_directive(args),
    },
    Directive {
        name: "exercise",
        form: "{{#exercise chNN/name}}",
        expand: |pages, args| pages.exercise_directive(args),
    },
    Directive {
        name: "figure",
        form: "{{#figure chNN/name series[,chNN/other:series] [logx] [logy] | caption}}",
        expand: |pages, args| pages.figure_directive(args),
    },
    Directive {
        name: "quiz",
        form: "{{#quiz chNN}}",
        expand: |pages, args| pages.quiz_directive(args),
    },
    Directive {
        name: "versus",
        form: "{{#versus chNN/twin metric chNN/listing metric [same-work|per-event] | what [; ...]}}",
        expand: |pages, args| pages.versus_directive(args),
    },
    Directive {
        name: "predict",
        form: "{{#predict chNN/name metric [chNN/twin metric] | question}}",
        expand: |pages, args| pages.predict_directive(args),
    },
    Directive {
        name: "if",
        form: "{{#if CONDITION | text if it holds | text if not}}",
        expand: |pages, args| pages.if_directive(args),
    },
    Directive {
        name: "assert",
        form: "{{#assert CONDITION}}",
        expand: |pages, args| pages.assert_directive(args),
    },
    Directive {
        name: "machine",
        form: "{{#machine chNN/name cores}}",
        expand: |pages, args| pages.machine_directive(args),
    },
];

/// What a directive's function returns for words that do not fit its form.
const WRONG: &str = "wrong arguments";

/// The licence line at the foot of every page (the files are `LICENSE-*` at
/// the repository's root; README.md says the same).
pub const LICENCE_FOOTER: &str = "\n\n---\n\n<small class=\"licence\">*How Programs Wait*: \
the prose and figures are under [CC BY 4.0](https://creativecommons.org/licenses/by/4.0/), \
the code under MIT or Apache-2.0, at your option.</small>\n";

/// The mark above a listing that does not compile, on purpose.
pub const DOES_NOT_COMPILE: &str = "<p class=\"does-not-compile\" role=\"note\">\
<strong>Does not compile</strong>, on purpose: the compiler's message is below.</p>\n\n";

/// The preprocessor, named `workbook` in `book.toml`.
pub struct Workbook {
    project: Project,
    every_output_shown: bool,
    /// A last page, not in `SUMMARY.md`: the reader's figures beside the
    /// book's (`cargo xtask book --compare`).
    appendix: Option<String>,
}

impl Workbook {
    /// The preprocessor for `project`.
    pub fn new(project: Project) -> Workbook {
        Workbook { project, every_output_shown: false, appendix: None }
    }

    /// The preprocessor for `project`, adding `page` (Markdown) as the book's
    /// last chapter.
    pub fn with_appendix(project: Project, page: String) -> Workbook {
        Workbook { project, every_output_shown: false, appendix: Some(page) }
    }

    /// The preprocessor for `cargo xtask check`, which also requires every
    /// measured listing's output to appear on some page: a measurement no
    /// reader sees is a claim nobody checks.
    pub fn strict(project: Project) -> Workbook {
        Workbook { project, every_output_shown: true, appendix: None }
    }
}

impl Preprocessor for Workbook {
    fn name(&self) -> &str {
        "workbook"
    }

    fn run(&self, context: &PreprocessorContext, mut book: Book) -> Result<Book> {
        let listings = self.project.listings()?;
        let repository = context.config.get::<String>("output.html.git-repository-url")?;
        let files = repository.map(|url| format!("{url}/blob/{}", self.project.revision()));
        let mut pages = Pages::new(&self.project, &listings).link_files_to(files);
        let edition = format!(
            "<small class=\"edition\">This copy is edition `{}` of the book.</small>\n",
            self.project.version()
        );
        let mut problems = Vec::new();
        book.for_each_chapter_mut(|chapter| {
            let Some(source) = &chapter.source_path else {
                return;
            };
            let page = format!("src/{}", source.display());
            match pages.expand(&page, &chapter.content) {
                Ok(text) => chapter.content = text + LICENCE_FOOTER + &edition,
                Err(found) => problems.extend(found),
            }
        });
        if self.every_output_shown {
            for listing in &listings {
                if !pages.shown.contains(&listing.id()) {
                    problems.push(format!(
                        "{listing} is measured but no page shows its output (add {{{{#output {listing}}}}} to src/{}.md)",
                        listing.chapter
                    ));
                }
            }
        }
        if !problems.is_empty() {
            bail!("the book has {} problem(s):\n{}", problems.len(), problems.join("\n"));
        }
        if let Some(page) = &self.appendix {
            let title = "Your machine beside the book's";
            book.push_item(Chapter::new(title, page.clone(), "your-machine.md", Vec::new()));
        }
        Ok(book)
    }
}

/// Expands the directives of pages, loading each output once.
pub struct Pages<'a> {
    project: &'a Project,
    listings: &'a [Listing],
    /// Where a listing's file is on the web: `{repository}/blob/{revision}`.
    repository: Option<String>,
    outputs: HashMap<String, Result<Output, String>>,
    /// The listings whose output some page embeds.
    pub shown: BTreeSet<String>,
}

impl<'a> Pages<'a> {
    /// A page expander over these listings.
    pub fn new(project: &'a Project, listings: &'a [Listing]) -> Pages<'a> {
        Pages {
            project,
            listings,
            repository: None,
            outputs: HashMap::new(),
            shown: BTreeSet::new(),
        }
    }

    /// Links each listing to its file under `base` (`{repository}/blob/{revision}`).
    pub fn link_files_to(mut self, base: Option<String>) -> Pages<'a> {
        self.repository = base;
        self
    }

    /// The page's text with every directive replaced, or every problem found,
    /// each as `page:line: problem`.
    pub fn expand(&mut self, page: &str, text: &str) -> Result<String, Vec<String>> {
        let mut expanded = String::with_capacity(text.len());
        let mut problems = Vec::new();
        let mut shown: Vec<(String, usize)> = Vec::new();
        let mut outputs_shown: Vec<(String, usize)> = Vec::new();
        let mut in_when = false;
        let mut rest = text;
        while let Some(start) = rest.find("{{#") {
            let line = 1 + text[..text.len() - rest.len() + start].matches('\n').count();
            let escaped = rest[..start].ends_with('\\');
            expanded.push_str(&rest[..start]);
            let Some(length) = rest[start..].find("}}") else {
                problems.push(format!("{page}:{line}: a directive that never closes with }}}}"));
                rest = &rest[start + 3..];
                continue;
            };
            let directive = &rest[start..start + length + 2];
            rest = &rest[start + length + 2..];
            if escaped {
                // `\{{#...}}` is text about a directive; mdBook's own links
                // preprocessor removes the backslash.
                expanded.push_str(directive);
                continue;
            }
            let words: Vec<&str> = directive[3..directive.len() - 2].split_whitespace().collect();
            // `{{#when COND}} A {{#else}} B {{#end}}`: a block of the page,
            // directives included, kept only where COND holds (B where not).
            match words.as_slice() {
                ["when", condition @ ..] => {
                    let close = block_end(rest);
                    match (close, condition::holds(condition, self)) {
                        (None, _) => problems.push(format!(
                            "{page}:{line}: {directive}: a `when` block needs an {{{{#end}}}}"
                        )),
                        (_, Err(problem)) => {
                            problems.push(format!("{page}:{line}: {directive}: {problem}"))
                        }
                        (Some((_, _)), Ok(true)) => in_when = true,
                        (Some((else_at, end)), Ok(false)) => {
                            // Skip to the `else` branch, or past the block.
                            rest = match else_at {
                                Some(at) => &rest[at + "{{#else}}".len()..],
                                None => &rest[end + "{{#end}}".len()..],
                            };
                            in_when = else_at.is_some();
                        }
                    }
                    continue;
                }
                ["else"] if in_when => {
                    // The `when` branch was kept: skip the `else` branch.
                    let end = rest.find("{{#end}}").unwrap_or(rest.len());
                    rest = &rest[(end + "{{#end}}".len()).min(rest.len())..];
                    in_when = false;
                    continue;
                }
                ["end"] if in_when => {
                    in_when = false;
                    continue;
                }
                ["else" | "end"] => {
                    problems.push(format!("{page}:{line}: {directive}: outside a `when` block"));
                    continue;
                }
                _ => {}
            }
            match self.directive(&words) {
                Ok(replacement) => {
                    match words.as_slice() {
                        ["listing", id] if !id.split(':').next().unwrap_or(id).ends_with(".rs") => {
                            shown.push((id.split(':').next().unwrap_or(id).to_string(), line))
                        }
                        ["output", id] => {
                            self.shown.insert(id.to_string());
                            outputs_shown.push((id.to_string(), line));
                        }
                        _ => {}
                    }
                    expanded.push_str(&replacement);
                }
                Err(problem) => problems.push(format!("{page}:{line}: {directive}: {problem}")),
            }
        }
        expanded.push_str(rest);
        // Every listing a page shows is followed by its measured output.
        for (id, line) in &shown {
            if !outputs_shown.iter().any(|(output, at)| output == id && at > line) {
                problems.push(format!(
                    "{page}:{line}: shows {id} but never its measured output after it (add {{{{#output {id}}}}})"
                ));
            }
        }
        if problems.is_empty() { Ok(expanded) } else { Err(problems) }
    }

    fn directive(&mut self, words: &[&str]) -> Result<String, String> {
        let Some((name, args)) = words.split_first() else {
            return Err("an empty directive".into());
        };
        let Some(directive) = DIRECTIVES.iter().find(|d| d.name == *name) else {
            let known: Vec<&str> = DIRECTIVES.iter().map(|d| d.name).collect();
            return Err(format!(
                "unknown directive `{name}` (this book knows {})",
                known.join(", ")
            ));
        };
        match (directive.expand)(self, args) {
            Err(problem) if problem == WRONG => {
                Err(format!("{WRONG}; the form is {}", directive.form))
            }
            result => result,
        }
    }

    fn listing_directive(&mut self, args: &[&str]) -> Result<String, String> {
        match args {
            [target] if target.split(':').next().is_some_and(|p| p.ends_with(".rs")) => {
                // Library code that a page shows, by its path in the workspace
                // (`gil_ext/src/lib.rs:functions`): shown, never measured.
                let (file, anchor) = match target.split_once(':') {
                    Some((file, anchor)) => (file, Some(anchor)),
                    None => (*target, None),
                };
                let path = self.project.workspace().join(file);
                if file.contains("..") || !path.is_file() {
                    return Err(format!("no file listings/{file}"));
                }
                let source = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let code = excerpt(&source, anchor)
                    .map_err(|problem| format!("{problem} in {}", self.project.relative(&path)))?;
                Ok(fenced("rust", &code) + &self.source_line(&path))
            }
            [target] => {
                let (listing, path, code) = self.listing_code(target)?;
                let language = if listing.spec.python { "python" } else { "rust" };
                // The Rust book's mark, in words: a reader skimming the code
                // must not take it for code that builds.
                let mark = match listing.spec.compile_fail {
                    Some(_) => DOES_NOT_COMPILE,
                    None => "",
                };
                Ok(format!("{mark}{}{}", fenced(language, &code), self.source_line(&path)))
            }
            _ => Err(WRONG.into()),
        }
    }

    /// The listing `chNN/name[:anchor]`, its file, and the code a page shows.
    fn listing_code(
        &self,
        target: &str,
    ) -> Result<(&'a Listing, std::path::PathBuf, String), String> {
        let (id, anchor) = match target.split_once(':') {
            Some((id, anchor)) => (id, Some(anchor)),
            None => (target, None),
        };
        let listing = self.listing(id)?;
        let path = self.project.source(listing);
        let source = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let code = excerpt(&source, anchor)
            .map_err(|problem| format!("{problem} in {}", self.project.relative(&path)))?;
        Ok((listing, path, code))
    }

    /// The line under a listing naming its file, a link to it where the
    /// book knows its repository (`output.html.git-repository-url`).
    fn source_line(&self, path: &std::path::Path) -> String {
        let file = self.project.relative(path);
        match &self.repository {
            Some(base) => format!(
                "<small class=\"listing-source\">[`{file}`]({}/{file})</small>\n",
                base.trim_end_matches('/')
            ),
            None => format!("<small class=\"listing-source\">`{file}`</small>\n"),
        }
    }

    fn output_directive(&mut self, args: &[&str]) -> Result<String, String> {
        let [id] = args else { return Err(WRONG.into()) };
        let output = self.output(id)?;
        let mut shown =
            format!("{}\n*{}*\n", fenced("text", &output.stdout.join("\n")), output.caption());
        if let Some(verdict) = output.verdict.as_ref().filter(|v| v.state == "skipped") {
            // The standard note for a claim the machine could not check.
            shown.push_str(&format!(
                "\n> **Not checked on this machine.** The machine that built this page lacks what \
                 the claim needs ({}): the listing measured what it could and left the claim \
                 unjudged. On a machine that has it, the same run checks the claim.\n",
                verdict.evidence
            ));
        }
        if self.listing(id)?.spec.compile_fail.is_some() {
            return Ok(shown);
        }
        // Where `cargo xtask serve` offers to run the listing again; empty and
        // hidden on the static site.
        Ok(format!("{shown}\n<div class=\"workbook-run\" data-listing=\"{id}\" hidden></div>\n"))
    }

    fn metric_directive(&mut self, args: &[&str]) -> Result<String, String> {
        let [id, name] = args else { return Err(WRONG.into()) };
        let output = self.output(id)?;
        match output.quoted(name) {
            Some(quoted) => Ok(quoted.shown()),
            None => {
                let known: Vec<&str> = output.metrics.keys().map(String::as_str).collect();
                Err(format!("{id} reports no metric `{name}` (it reports: {})", known.join(", ")))
            }
        }
    }

    fn exercise_directive(&mut self, args: &[&str]) -> Result<String, String> {
        let [id] = args else { return Err(WRONG.into()) };
        self.exercise(id)
    }

    fn figure_directive(&mut self, args: &[&str]) -> Result<String, String> {
        let spec = crate::figure::Spec::parse(args)?;
        let mut outputs = Vec::new();
        for (source, name) in &spec.lines {
            outputs.push((self.output(source)?, name.as_str()));
        }
        let lines: Vec<(&Output, &str)> = outputs.iter().map(|(o, n)| (o, *n)).collect();
        let drawn = figure(&lines, spec.log_x, spec.log_y, &spec.caption)?;
        // The directive's words, for `cargo xtask serve` to draw it again
        // with a run from the page (the static site never reads them).
        Ok(drawn.replacen(
            "<figure class=\"workbook-figure\">",
            &format!(
                "<figure class=\"workbook-figure\" data-figure=\"{}\">",
                crate::figure::escape(&args.join(" "))
            ),
            1,
        ))
    }

    /// A question the reader answers with a number before the output that
    /// holds it; `theme/predict.js` then shows the measured figure (and the
    /// twin's), says how close the guess was, and remembers it.
    fn predict_directive(&mut self, args: &[&str]) -> Result<String, String> {
        let split = args.iter().position(|w| *w == "|").ok_or(WRONG)?;
        let question = args[split + 1..].join(" ");
        let (measured, twin) = match args[..split] {
            [id, name] => ((id, name), None),
            [id, name, twin, twin_name] => ((id, name), Some((twin, twin_name))),
            _ => return Err(WRONG.into()),
        };
        if question.is_empty() {
            return Err(WRONG.into());
        }
        let figure = |pages: &mut Self, (id, name): (&str, &str)| {
            let output = pages.output(id)?;
            let quoted =
                output.quoted(name).ok_or_else(|| format!("{id} reports no metric `{name}`"))?;
            let (value, unit) = (quoted.value, &quoted.metric.unit);
            if value.is_nan() || value <= 0.0 {
                return Err(format!(
                    "{id}:{name} is not above zero, so no guess can be close to it"
                ));
            }
            let shown = crate::output::format_figure(value, unit);
            Ok((value, unit.clone(), shown, output.machine.python.clone()))
        };
        let (value, unit, shown, _) = figure(self, measured)?;
        let element = format!("predict-{}-{}", measured.0.replace('/', "-"), measured.1);
        let mut data = format!("data-value=\"{value}\" data-shown=\"{}\"", escape(&shown));
        if let Some(twin) = twin {
            let (twin_value, twin_unit, twin_shown, python) = figure(self, twin)?;
            let Some(python) = python else {
                return Err(format!("{} is not a Python twin", twin.0));
            };
            if twin_unit != unit {
                return Err(format!("{} is in {twin_unit}, {} in {unit}", twin.0, measured.0));
            }
            let _ = write!(
                data,
                " data-twin-value=\"{twin_value}\" data-twin-shown=\"{}\" data-twin-label=\"{}\"",
                escape(&twin_shown),
                escape(&python)
            );
        }
        // One line of HTML: a blank line would end the HTML block in Markdown.
        Ok(format!(
            "<form class=\"predict\" id=\"{element}\" {data}><p><strong>Predict, then reveal.</strong> <label for=\"{element}-guess\">{}</label></p><p><input id=\"{element}-guess\" type=\"number\" step=\"any\" min=\"0\" required> <span class=\"predict-unit\">{}</span> <button type=\"submit\">Reveal</button></p><p class=\"predict-result\" aria-live=\"polite\" hidden></p></form>\n",
            crate::quiz::inline_code(&question),
            escape(&unit)
        ))
    }

    fn versus_directive(&mut self, args: &[&str]) -> Result<String, String> {
        if !args.contains(&"|") {
            return Err(WRONG.into());
        }
        let mut rows = Vec::new();
        for row in args.split(|w| *w == ";") {
            let split = row.iter().position(|w| *w == "|").unwrap_or(row.len());
            let label = row.get(split + 1..).unwrap_or_default().join(" ");
            let (python, rust, same_work) = match row[..split] {
                [p, pm, r, rm] => ((p, pm), (r, rm), false),
                // `per-event`: a time per event measured alike (a
                // spawn, the wait after one I/O), not a job's time.
                [p, pm, r, rm, "same-work" | "per-event"] => ((p, pm), (r, rm), true),
                _ => return Err(WRONG.into()),
            };
            rows.push((
                self.output(python.0)?,
                python.1,
                self.output(rust.0)?,
                rust.1,
                same_work,
                label,
            ));
        }
        for (python, _, rust, _, _, _) in &rows {
            if python.machine.python.is_none() || rust.machine.python.is_some() {
                return Err(format!(
                    "versus sets a Python twin's metric beside a Rust listing's; {} and {} are not that pair",
                    python.listing, rust.listing
                ));
            }
        }
        let rows: Vec<Comparison> = rows
            .iter()
            .map(|(p, pm, r, rm, same, label)| Comparison {
                python: p,
                python_metric: pm,
                rust: r,
                rust_metric: rm,
                same_work: *same,
                label,
            })
            .collect();
        versus(&rows)
    }

    fn if_directive(&mut self, args: &[&str]) -> Result<String, String> {
        let mut parts = args.split(|w| *w == "|");
        let condition = parts.next().unwrap_or_default();
        let (Some(yes), no, None) = (parts.next(), parts.next().unwrap_or_default(), parts.next())
        else {
            return Err(WRONG.into());
        };
        let chosen = if condition::holds(condition, self)? { yes } else { no };
        Ok(chosen.join(" "))
    }

    fn assert_directive(&mut self, condition: &[&str]) -> Result<String, String> {
        match condition::holds(condition, self)? {
            true => Ok(String::new()),
            false => Err(format!(
                "no longer holds on these figures: {}; the sentence beside it must change, or become an {{{{#if}}}}",
                condition.join(" ")
            )),
        }
    }

    fn machine_directive(&mut self, args: &[&str]) -> Result<String, String> {
        let [id, "cores"] = args else { return Err(WRONG.into()) };
        Ok(condition::cores(self.output(id)?.machine.cores))
    }

    fn quiz_directive(&mut self, args: &[&str]) -> Result<String, String> {
        let [chapter] = args else { return Err(WRONG.into()) };
        let file = self.project.root.join("quizzes").join(format!("{chapter}.toml"));
        let root = format!("{}/", self.project.root.display());
        quiz(&file, chapter, &mut QuizSources(self)).map_err(|problem| problem.replace(&root, ""))
    }

    fn listing(&self, id: &str) -> Result<&'a Listing, String> {
        self.project.find(self.listings, id).map_err(|e| e.to_string())
    }

    fn output(&mut self, id: &str) -> Result<Output, String> {
        if !self.outputs.contains_key(id) {
            let loaded = self.load_output(id);
            self.outputs.insert(id.to_string(), loaded);
        }
        self.outputs[id].clone()
    }

    fn load_output(&self, id: &str) -> Result<Output, String> {
        let listing = self.listing(id)?;
        let path = self.project.output_path(listing);
        let remeasure = format!("run `cargo xtask measure {id}`");
        if !path.exists() {
            return Err(format!("{id} has no measured output yet; {remeasure}"));
        }
        let output = Output::load(&path).map_err(|e| format!("{e:#}; {remeasure}"))?;
        let now = fingerprint(self.project, listing).map_err(|e| format!("{e:#}"))?;
        if now != output.fingerprint {
            return Err(format!(
                "the measured output of {id} is stale (its sources changed); {remeasure}"
            ));
        }
        Ok(output)
    }

    fn exercise(&self, id: &str) -> Result<String, String> {
        let folder = self.project.workspace().join("exercises/src").join(id);
        let read = |file: &str| -> Result<String, String> {
            let path = folder.join(file);
            let text = std::fs::read_to_string(&path)
                .map_err(|_| format!("no exercise file {}", self.project.relative(&path)))?;
            excerpt(&text, None)
        };
        let starter = read("starter.rs")?;
        let solution = read("solution.rs")?;
        read("tests.rs")?;
        let name = Path::new(id).file_name().map_or(id.into(), |n| n.to_string_lossy());
        let folder = self.project.relative(&folder);
        Ok(format!(
            "The starter, `{folder}/starter.rs`:\n\n{}\n\
             Fill in the `todo!()`s, then run the tests in `{folder}/tests.rs` against it:\n\n\
             ```console\ncd listings\ncargo test -p exercises --features starters -- {name}\n```\n\n\
             <details>\n<summary>Solution</summary>\n\n{}\n</details>\n",
            fenced("rust", &starter),
            fenced("rust", &solution),
        ))
    }
}

impl Figures for Pages<'_> {
    fn output(&mut self, id: &str) -> Result<Output, String> {
        Pages::output(self, id)
    }
}

/// Where the `when` block that `rest` is inside ends: its `{{#else}}`, if it
/// has one, and its `{{#end}}`, as offsets into `rest`. Blocks do not nest.
fn block_end(rest: &str) -> Option<(Option<usize>, usize)> {
    let end = rest.find("{{#end}}")?;
    let else_at = rest[..end].find("{{#else}}");
    Some((else_at, end))
}

/// The text between `// ANCHOR: name` and `// ANCHOR_END: name`, or the whole
/// source, with every anchor line removed and common indentation stripped.
pub fn excerpt(source: &str, anchor: Option<&str>) -> Result<String, String> {
    // `// ANCHOR: name` in Rust, `# ANCHOR: name` in Python.
    fn comment(line: &str) -> Option<&str> {
        let line = line.trim_start();
        line.strip_prefix("//").or_else(|| line.strip_prefix('#'))
    }
    let is_marker = |line: &str, kind: &str, name: &str| {
        comment(line)
            .map(str::trim_start)
            .and_then(|rest| rest.strip_prefix(kind))
            .is_some_and(|rest| rest.trim() == name)
    };
    let lines: Vec<&str> = source.lines().collect();
    let selected: &[&str] = match anchor {
        None => &lines,
        Some(name) => {
            let begin = lines
                .iter()
                .position(|line| is_marker(line, "ANCHOR:", name))
                .ok_or_else(|| format!("no `// ANCHOR: {name}`"))?;
            let end =
                lines[begin..]
                    .iter()
                    .position(|line| is_marker(line, "ANCHOR_END:", name))
                    .ok_or_else(|| format!("`// ANCHOR: {name}` has no `// ANCHOR_END: {name}`"))?;
            &lines[begin + 1..begin + end]
        }
    };
    let kept: Vec<&str> = selected
        .iter()
        .copied()
        .filter(|line| {
            !comment(line)
                .map(str::trim_start)
                .is_some_and(|rest| rest.starts_with("ANCHOR:") || rest.starts_with("ANCHOR_END:"))
        })
        .collect();
    let indent = kept
        .iter()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0);
    let dedented: Vec<String> = kept
        .iter()
        .map(|line| line.get(indent..).unwrap_or(""))
        .map(|line| match is_measuring(line) {
            // mdBook hides a Rust line written `# code`, with a button that
            // shows it: the page reads the lesson, and one click shows what
            // measures it.
            true => {
                let code = line.trim_start();
                format!("{}# {code}", &line[..line.len() - code.len()])
            }
            false => line.to_string(),
        })
        .collect();
    Ok(dedented.join("\n").trim_matches('\n').to_string())
}

/// Whether a Rust line is marked as measuring, not lesson: it ends in a
/// `// measuring` comment (`steps.mark("connect"); // measuring`), perhaps
/// with a reason after a colon. A page shows it hidden, and the tidy check
/// lets it stand inside an anchor.
pub fn is_measuring(line: &str) -> bool {
    line.rsplit_once("// measuring").is_some_and(|(code, rest)| {
        !code.trim().is_empty() && (rest.is_empty() || rest.starts_with(':'))
    })
}

/// `code` in a fenced block longer than any run of backticks inside it.
/// The listings and outputs a quiz's questions take their answers from.
struct QuizSources<'p, 'a>(&'p mut Pages<'a>);

impl crate::quiz::Sources for QuizSources<'_, '_> {
    fn code(&mut self, target: &str) -> Result<String, String> {
        self.0.listing_code(target).map(|(_, _, code)| code)
    }
    fn compile_fail(&mut self, id: &str) -> Result<bool, String> {
        Ok(self.0.listing(id)?.spec.compile_fail.is_some())
    }
    fn printed(&mut self, id: &str) -> Result<Vec<String>, String> {
        Ok(self.0.output(id)?.stdout)
    }
}

fn fenced(language: &str, code: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in code.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{language}\n{code}\n{fence}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{LISTING, workbook, write};

    /// Expands `page` in the fixture workbook and compares the result, or
    /// the problems found, with `expected`.
    fn check(page: &str, expected: Result<&str, &[&str]>) {
        let (_dir, project) = workbook();
        let listings = project.listings().unwrap();
        let mut pages = Pages::new(&project, &listings);
        let got = pages.expand("src/ch99.md", page);
        match (got, expected) {
            (Ok(text), Ok(expected)) => assert_eq!(text, expected),
            (Err(problems), Err(expected)) => assert_eq!(problems, expected),
            (got, expected) => panic!("expected {expected:?}, got {got:?}"),
        }
    }

    #[test]
    fn a_listing_excerpt_its_output_and_a_metric() {
        check(
            "{{#listing ch99/waiting:wait}}\n{{#output ch99/waiting}}\nIt took {{#metric ch99/waiting wait}}.\n",
            Ok(
                "```rust\nlet wait = std::time::Duration::from_millis(5);\n    std::thread::sleep(wait);\n```\n\
                <small class=\"listing-source\">`listings/ch99/src/bin/waiting.rs`</small>\n\n\
                ```text\nwaited 5.1 ms\nclaim holds: waiting takes time\n```\n\n\
                *Measured output of `cargo run --release -p ch99 --bin waiting`, the most typical of 3 runs, whose figures the text quotes, on the machine that built this page: Test CPU (2 cores), Test OS, rustc 1.0.0, on 2026-01-02.*\n\n\
                <div class=\"workbook-run\" data-listing=\"ch99/waiting\" hidden></div>\n\n\
                It took 5.12 ms.\n",
            ),
        );
    }

    /// The fixture workbook plus a Python twin, `ch99/waiting_py`, with a
    /// fresh output whose `wait` metric is `python_wait` ms.
    fn with_twin(python_wait: f64, unit: &str) -> (tempfile::TempDir, Project) {
        let (dir, project) = workbook();
        let measure =
            std::fs::read_to_string(dir.path().join("listings/ch99/measure.toml")).unwrap();
        write(
            dir.path(),
            "listings/ch99/measure.toml",
            &format!("{measure}\n[[listing]]\nname = \"waiting_py\"\npython = true\n"),
        );
        let twin = "\"\"\"Waiting takes time in Python too.\"\"\"\nimport time\n\n# ANCHOR: wait\ntime.sleep(0.005)\n# ANCHOR_END: wait\n";
        write(dir.path(), "listings/ch99/python/waiting_py.py", twin);
        let rust = crate::fixture::listing(&project, "ch99/waiting");
        let mut output = Output::load(&project.output_path(&rust)).unwrap();
        let listing = crate::fixture::listing(&project, "ch99/waiting_py");
        output.listing = listing.id();
        output.command = "cargo xtask python ch99/waiting_py".into();
        output.machine.python = Some("CPython 3.11.7".into());
        output.fingerprint = fingerprint(&project, &listing).unwrap();
        let wait = output.metrics.get_mut("wait").unwrap();
        (wait.median, wait.unit) = (python_wait, unit.into());
        (wait.min, wait.max, wait.samples) = (python_wait, python_wait, vec![python_wait; 3]);
        output.series.get_mut("wait_by_run").unwrap().points[0].1 = 7.0;
        output.series.insert(
            "wait_by_run_seconds".into(),
            crate::output::Series {
                x_unit: "run".into(),
                y_unit: "s".into(),
                points: vec![(1.0, 0.007)],
            },
        );
        output.save(&project.output_path(&listing)).unwrap();
        (dir, project)
    }

    fn expand(project: &Project, page: &str) -> Result<String, Vec<String>> {
        let listings = project.listings().unwrap();
        Pages::new(project, &listings).expand("src/ch99.md", page)
    }

    #[test]
    fn a_prediction_carries_the_figure_and_the_twins_and_refuses_what_cannot_be_guessed() {
        let (_dir, project) = with_twin(10.246, "ms");
        let form = expand(
            &project,
            "{{#predict ch99/waiting wait ch99/waiting_py wait | How long is `the` wait?}}",
        )
        .unwrap();
        assert!(
            form.starts_with("<form class=\"predict\" id=\"predict-ch99-waiting-wait\""),
            "{form}"
        );
        assert!(form.contains("data-shown=\"5.12 ms\" data-twin-value=\"10.246\""), "{form}");
        assert!(form.contains("data-twin-label=\"CPython 3.11.7\""), "{form}");
        assert!(form.contains("How long is <code>the</code> wait?</label>"), "{form}");
        assert!(form.contains("<span class=\"predict-unit\">ms</span>"), "{form}");
        assert_eq!(form.trim_end().lines().count(), 1, "a blank line would end the HTML block");
        let problems = expand(
            &project,
            "{{#predict ch99/waiting nothing | Q}} {{#predict ch99/waiting wait ch99/waiting wait | Q}} {{#predict ch99/waiting wait}}",
        )
        .unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].ends_with("ch99/waiting reports no metric `nothing`"), "{problems:?}");
        assert!(problems[1].ends_with("ch99/waiting is not a Python twin"), "{problems:?}");
        assert!(problems[2].contains("wrong arguments; the form is {{#predict"), "{problems:?}");
    }

    #[test]
    fn versus_puts_a_twin_beside_its_rust_listing_with_their_ratio() {
        let (_dir, project) = with_twin(10.246, "ms");
        let table = expand(
            &project,
            "{{#versus ch99/waiting_py wait ch99/waiting wait same-work | one wait}}",
        )
        .unwrap();
        assert_eq!(
            table,
            "| measured here | CPython 3.11.7 | Rust (rustc 1.0.0) | CPython ÷ Rust |\n|---|--:|--:|--:|\n\
             | one wait | 10.2 ms | 5.12 ms | 2.00× |\n\n\
             *Medians from the measured outputs of `ch99/waiting_py`, `ch99/waiting`, on the machine that built this page, Test CPU (2 cores).*\n"
        );
        // A ratio of times without `same-work` is refused, and so are unlike
        // units and a pair the wrong way round.
        let refused = |page: &str| expand(&project, page).unwrap_err()[0].clone();
        assert!(
            refused("{{#versus ch99/waiting_py wait ch99/waiting wait | one wait}}")
                .ends_with("say `same-work` or `per-event` if it is"),
        );
        assert!(
            refused("{{#versus ch99/waiting wait ch99/waiting_py wait same-work | one wait}}")
                .contains("are not that pair"),
        );
        let (_dir, project) = with_twin(0.0102, "s");
        let problems = expand(
            &project,
            "{{#versus ch99/waiting_py wait ch99/waiting wait same-work | one wait}}",
        )
        .unwrap_err();
        assert!(problems[0].ends_with("versus refuses a ratio of unlike units"), "{problems:?}");
    }

    #[test]
    fn a_figure_draws_series_of_two_outputs_and_a_twin_shows_as_python() {
        let (_dir, project) = with_twin(10.0, "ms");
        let text = expand(
            &project,
            "{{#figure ch99/waiting wait_by_run,ch99/waiting_py:wait_by_run | Rust and Python waits}}",
        )
        .unwrap();
        assert_eq!(text.matches("<polyline").count(), 2, "{text}");
        assert!(
            text.contains("Drawn from the measured outputs of <code>cargo run --release -p ch99 --bin waiting</code> and <code>cargo xtask python ch99/waiting_py</code>"),
            "{text}"
        );
        let problems = expand(
            &project,
            "{{#figure ch99/waiting wait_by_run,ch99/waiting_py:wait_by_run_seconds | unlike}}",
        )
        .unwrap_err();
        assert!(problems[0].ends_with("one figure draws like units only"), "{problems:?}");
        let shown =
            expand(&project, "{{#listing ch99/waiting_py:wait}}\n{{#output ch99/waiting_py}}\n")
                .unwrap();
        assert!(shown.starts_with("```python\ntime.sleep(0.005)\n```\n"), "{shown}");
    }

    #[test]
    fn prose_follows_its_figures_or_the_build_names_the_sentence() {
        // The fixture's `wait` is 5.123 ms, measured on 2 cores.
        let page = "It took {{#metric ch99/waiting wait}}, \
                    {{#if ch99/waiting:wait < 2 * ch99/waiting@cores | under | over}} a millisecond a core \
                    on {{#machine ch99/waiting cores}}.{{#assert ch99/waiting:wait > 5 and 1 < 2}}\n";
        check(page, Ok("It took 5.12 ms, over a millisecond a core on 2 cores.\n"));
        let (dir, project) = workbook();
        let listing = crate::fixture::listing(&project, "ch99/waiting");
        let mut output = Output::load(&project.output_path(&listing)).unwrap();
        let wait = output.metrics.get_mut("wait").unwrap();
        (wait.median, wait.samples) = (3.0, vec![3.0; 3]);
        output.machine.cores = 1;
        output.save(&project.output_path(&listing)).unwrap();
        let problems = expand(&project, page).unwrap_err();
        assert_eq!(
            problems,
            [
                "src/ch99.md:1: {{#assert ch99/waiting:wait > 5 and 1 < 2}}: no longer holds on these figures: \
              ch99/waiting:wait > 5 and 1 < 2; the sentence beside it must change, or become an {{#if}}"
            ]
        );
        let text = expand(&project, "{{#if ch99/waiting:wait < 2 * ch99/waiting@cores | under | over}} on {{#machine ch99/waiting cores}}").unwrap();
        assert_eq!(text, "over on 1 core");
        drop(dir);
        let (_dir, project) = workbook();
        let problems =
            expand(&project, "{{#if ch99/waiting:wall < 1 | a | b}} {{#if 1 | a}}").unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].ends_with("ch99/waiting reports no metric `wall`"), "{problems:?}");
        assert!(problems[1].ends_with("`1` compares nothing (<, <=, >, >=, ==)"), "{problems:?}");
    }

    #[test]
    fn a_listing_links_to_its_file_and_one_that_does_not_compile_says_so() {
        let (dir, project) = workbook();
        let measure = std::fs::read_to_string(dir.path().join("listings/ch99/measure.toml"));
        let measure =
            measure.unwrap() + "\n[[listing]]\nname = \"broken\"\ncompile_fail = \"E0308\"\n";
        write(dir.path(), "listings/ch99/measure.toml", &measure);
        write(
            dir.path(),
            "listings/ch99/compile_fail/broken.rs",
            "fn main() { let x: u8 = \"\"; }\n",
        );
        let listings = project.listings().unwrap();
        let base = "https://example.org/book/blob/abc";
        let mut pages = Pages::new(&project, &listings).link_files_to(Some(base.into()));
        let shown = pages.listing_directive(&["ch99/waiting"]).unwrap();
        let link = "[`listings/ch99/src/bin/waiting.rs`](https://example.org/book/blob/abc/listings/ch99/src/bin/waiting.rs)";
        assert!(
            shown.ends_with(&format!("<small class=\"listing-source\">{link}</small>\n")),
            "{shown}"
        );
        assert!(!shown.contains("does-not-compile"), "{shown}");
        let broken = pages.listing_directive(&["ch99/broken"]).unwrap();
        assert!(broken.starts_with(DOES_NOT_COMPILE), "{broken}");
        assert!(broken.contains("listings/ch99/compile_fail/broken.rs"), "{broken}");
    }

    #[test]
    fn library_code_is_shown_by_file_and_anchor() {
        let (dir, project) = workbook();
        write(
            dir.path(),
            "listings/ch99/src/lock.rs",
            "pub fn f() {\n    // ANCHOR: body\n    let x = 1;\n    // ANCHOR_END: body\n}\n",
        );
        assert_eq!(
            expand(&project, "{{#listing ch99/src/lock.rs:body}}").unwrap(),
            "```rust\nlet x = 1;\n```\n<small class=\"listing-source\">`listings/ch99/src/lock.rs`</small>\n"
        );
        let problems =
            expand(&project, "{{#listing ch99/src/none.rs}} {{#listing ../x.rs}}").unwrap_err();
        assert!(problems[0].ends_with("no file listings/ch99/src/none.rs"), "{problems:?}");
        assert!(problems[1].ends_with("no file listings/../x.rs"), "{problems:?}");
    }

    #[test]
    fn a_figure_is_drawn_from_a_series_in_one_html_block() {
        let (_dir, project) = workbook();
        let listings = project.listings().unwrap();
        let text = Pages::new(&project, &listings)
            .expand("src/ch99.md", "{{#figure ch99/waiting wait_by_run | Each run's wait}}")
            .unwrap();
        assert!(
            text.starts_with("<figure class=\"workbook-figure\" data-figure=\"ch99/waiting wait_by_run | Each run's wait\"><svg viewBox=\"0 0 640 360\""),
            "{text}"
        );
        assert!(
            text.contains(
                "<title id=\"figure-ch99-waiting-wait_by_run-title\">Each run&#39;s wait</title>"
            ) || text.contains("Each run's wait</title>"),
            "{text}"
        );
        assert!(text.contains("<desc id=\"figure-ch99-waiting-wait_by_run-desc\">Line chart. wait_by_run: 1 run: 5 ms; 2 run: 5.10 ms; 3 run: 6 ms.</desc>"), "{text}");
        assert!(text.contains("<polyline"));
        // Each point says its value on hover.
        assert!(text.contains("<title>wait_by_run: 2 run: 5.10 ms</title></circle>"), "{text}");
        assert!(!text.trim_end().contains('\n'), "a blank line would end the HTML block");
    }

    #[test]
    fn an_escaped_directive_is_left_for_mdbook_to_unescape() {
        check(
            "Write \\{{#metric id name}} in a page.",
            Ok("Write \\{{#metric id name}} in a page."),
        );
    }

    #[test]
    fn every_bad_directive_is_named_with_its_page_and_line() {
        let page = "# Chapter 99\n\
                    {{#include ../listings/ch99/src/bin/waiting.rs}}\n\
                    {{#listing ch99/sleeping}}\n\
                    {{#listing ch99/waiting:missing}}\n\
                    {{#metric ch99/waiting wall}}\n\
                    {{#output ch99/other}}\n\
                    {{#metric ch99/waiting}}\n\
                    {{#exercise ch99/nothing}}\n\
                    {{#figure ch99/waiting missing | Waits}}\n\
                    {{#figure ch99/waiting wait_by_run}}\n\
                    {{#quiz ch98}}\n\
                    {{#output ch99/waiting";
        check(
            page,
            Err(&[
                "src/ch99.md:2: {{#include ../listings/ch99/src/bin/waiting.rs}}: unknown directive `include` (this book knows listing, output, metric, exercise, figure, quiz, versus, predict, if, assert, machine)",
                "src/ch99.md:3: {{#listing ch99/sleeping}}: unknown listing `ch99/sleeping` (known: ch99/waiting, ch99/other)",
                "src/ch99.md:4: {{#listing ch99/waiting:missing}}: no `// ANCHOR: missing` in listings/ch99/src/bin/waiting.rs",
                "src/ch99.md:5: {{#metric ch99/waiting wall}}: ch99/waiting reports no metric `wall` (it reports: wait)",
                "src/ch99.md:6: {{#output ch99/other}}: ch99/other has no measured output yet; run `cargo xtask measure ch99/other`",
                "src/ch99.md:7: {{#metric ch99/waiting}}: wrong arguments; the form is {{#metric chNN/name metric}}",
                "src/ch99.md:8: {{#exercise ch99/nothing}}: no exercise file listings/exercises/src/ch99/nothing/starter.rs",
                "src/ch99.md:9: {{#figure ch99/waiting missing | Waits}}: ch99/waiting reports no series `missing` (it reports: wait_by_run)",
                "src/ch99.md:10: {{#figure ch99/waiting wait_by_run}}: wrong arguments; the form is {{#figure chNN/name series[,chNN/other:series] [logx] [logy] | caption}}",
                "src/ch99.md:11: {{#quiz ch98}}: no quiz file quizzes/ch98.toml",
                "src/ch99.md:12: a directive that never closes with }}",
            ]),
        );
    }

    #[test]
    fn a_stale_output_fails_the_page() {
        let (dir, project) = workbook();
        write(dir.path(), "listings/ch99/src/bin/waiting.rs", &LISTING.replace("5", "50"));
        let listings = project.listings().unwrap();
        let problems = Pages::new(&project, &listings)
            .expand("src/ch99.md", "{{#metric ch99/waiting wait}}")
            .unwrap_err();
        assert_eq!(
            problems,
            [
                "src/ch99.md:1: {{#metric ch99/waiting wait}}: the measured output of ch99/waiting is stale (its sources changed); run `cargo xtask measure ch99/waiting`"
            ]
        );
    }

    #[test]
    fn a_listing_shown_without_its_output_fails_the_page() {
        check(
            "{{#listing ch99/waiting:wait}}\n\nNo output here.\n",
            Err(&[
                "src/ch99.md:1: shows ch99/waiting but never its measured output after it (add {{#output ch99/waiting}})",
            ]),
        );
    }

    #[test]
    fn an_exercise_shows_starter_and_hides_solution() {
        let (dir, project) = workbook();
        write(
            dir.path(),
            "listings/exercises/src/ch99/wait/starter.rs",
            "pub fn wait() {\n    todo!()\n}\n",
        );
        write(dir.path(), "listings/exercises/src/ch99/wait/solution.rs", "pub fn wait() {}\n");
        write(dir.path(), "listings/exercises/src/ch99/wait/tests.rs", "#[test]\nfn waits() {}\n");
        let listings = project.listings().unwrap();
        let text = Pages::new(&project, &listings)
            .expand("src/ch99.md", "{{#exercise ch99/wait}}")
            .unwrap();
        let solution_at = text.find("pub fn wait() {}").unwrap();
        assert!(text.find("todo!()").unwrap() < text.find("<details>").unwrap());
        assert!(text.find("<details>").unwrap() < solution_at);
        assert!(text.contains("cargo test -p exercises --features starters -- wait"));
    }

    #[test]
    fn check_requires_every_measured_output_on_some_page() {
        use mdbook_preprocessor::book::{BookItem, Chapter};
        use mdbook_preprocessor::config::Config;

        let (dir, project) = workbook();
        // Only ch99/waiting is measured and listed in this variant.
        write(
            dir.path(),
            "listings/ch99/measure.toml",
            "[[listing]]\nname = \"waiting\"\nruns = 3\n",
        );
        std::fs::remove_file(dir.path().join("listings/ch99/src/bin/other.rs")).unwrap();
        let run = |preprocessor: Workbook, page: &str| {
            let chapter = Chapter::new("Chapter 99", page.to_string(), "ch99.md", Vec::new());
            let book = Book::new_with_items(vec![BookItem::Chapter(chapter)]);
            let context = PreprocessorContext::new(
                dir.path().to_path_buf(),
                Config::default(),
                "html".into(),
            );
            let book = preprocessor.run(&context, book).map_err(|e| e.to_string())?;
            let Some(BookItem::Chapter(page)) = book.iter().next() else { panic!("a chapter") };
            let (_, footer) = page.content.rsplit_once(LICENCE_FOOTER).expect("the licence");
            // The fixture is no git repository: its edition says so.
            let edition = "<small class=\"edition\">This copy is edition `unversioned` of the book.</small>\n";
            assert_eq!(footer, edition, "every page ends with the licence and the edition");
            Ok::<(), String>(())
        };
        let silent = "It waits {{#metric ch99/waiting wait}}.";
        assert_eq!(run(Workbook::new(project.clone()), silent), Ok(()));
        assert_eq!(
            run(Workbook::strict(project.clone()), silent),
            Err("the book has 1 problem(s):\nch99/waiting is measured but no page shows its output (add {{#output ch99/waiting}} to src/ch99.md)".into())
        );
        assert_eq!(run(Workbook::strict(project), "{{#output ch99/waiting}}"), Ok(()));
    }

    #[test]
    fn a_skipped_claim_gets_the_standard_note_under_its_output() {
        let (_dir, project) = workbook();
        let rendered = |project: &Project| expand(project, "{{#output ch99/waiting}}\n").unwrap();
        assert!(!rendered(&project).contains("Not checked"), "a held claim gets no note");
        let listing = crate::fixture::listing(&project, "ch99/waiting");
        let mut output = Output::load(&project.output_path(&listing)).unwrap();
        output.verdict = Some(crate::output::Verdict {
            state: "skipped".into(),
            claim: "waiting takes time".into(),
            evidence: "this listing needs two CPUs".into(),
        });
        output.save(&project.output_path(&listing)).unwrap();
        let text = rendered(&project);
        assert!(
            text.contains("> **Not checked on this machine.** The machine that built this page lacks what the claim needs (this listing needs two CPUs)"),
            "{text}"
        );
    }

    #[test]
    fn a_when_block_keeps_its_directives_only_where_its_condition_holds() {
        // The fixture's `wait` is 5.123 ms, and the listing held its claim.
        let page = "A {{#when ch99/waiting@skipped == 0}}took {{#metric ch99/waiting wait}}\
                    {{#else}}skipped: {{#metric ch99/waiting none}}{{#end}}. B\n";
        check(page, Ok("A took 5.12 ms. B\n"));
        let page = "A {{#when ch99/waiting:wait > 9}}{{#metric ch99/waiting none}}{{#end}}B \
                    {{#when 1 < 2}}C{{#else}}D{{#end}}";
        check(page, Ok("A B C"));
        check(
            "{{#when 1 < 2}}open {{#end}} {{#end}} {{#else}}",
            Err(&[
                "src/ch99.md:1: {{#end}}: outside a `when` block",
                "src/ch99.md:1: {{#else}}: outside a `when` block",
            ]),
        );
        check(
            "{{#when 1 < 2}} never closed",
            Err(&["src/ch99.md:1: {{#when 1 < 2}}: a `when` block needs an {{#end}}"]),
        );
    }

    #[test]
    fn a_measuring_line_is_hidden_on_the_page() {
        let source = "// ANCHOR: fetch\n    let stream = connect();\n    steps.mark(\"connect\"); // measuring\n    observer: Option<Observer>, // measuring: for the figure\n    // measuring is the next step\n// ANCHOR_END: fetch\n";
        assert_eq!(
            excerpt(source, Some("fetch")).unwrap(),
            "let stream = connect();\n# steps.mark(\"connect\"); // measuring\n# observer: Option<Observer>, // measuring: for the figure\n// measuring is the next step"
        );
    }

    #[test]
    fn excerpts_drop_nested_anchors_and_common_indentation() {
        let source = "fn main() {\n    // ANCHOR: outer\n    let a = 1;\n    // ANCHOR: inner\n    let b = 2;\n    // ANCHOR_END: inner\n    // ANCHOR_END: outer\n}\n";
        assert_eq!(excerpt(source, Some("outer")).unwrap(), "let a = 1;\nlet b = 2;");
        assert_eq!(excerpt(source, Some("inner")).unwrap(), "let b = 2;");
        assert_eq!(
            excerpt(source, None).unwrap(),
            "fn main() {\n    let a = 1;\n    let b = 2;\n}"
        );
        assert_eq!(
            excerpt("// ANCHOR: open\nlet a = 1;\n", Some("open")).unwrap_err(),
            "`// ANCHOR: open` has no `// ANCHOR_END: open`"
        );
    }
}
