//! Quizzes: `quizzes/chNN.toml` rendered as questions the page grades by
//! itself (with `theme/quiz.js`), with no server.
//!
//! ```toml
//! [[question]]
//! prompt = "Which of these waits is the longest?"
//! code = "optional code to read, shown as is"
//! choices = ["an L1 cache hit", "a loopback round trip", "a 1 ms sleep"]
//! answer = 2                      # 0-based index of the right choice
//! why = "shown once the reader picks the right answer"
//! ```
//!
//! Two kinds of question take their answer from the book's listings, so
//! that it cannot drift from what the compiler and the programs said:
//!
//! ```toml
//! [[question]]
//! kind = "compiles"               # "Does this compile?" Yes or no
//! listing = "ch05/unpinned_future:unpinned"   # the code shown (an anchor is optional)
//! why = "..."                     # after the compiler's captured message, if it refused
//!
//! [[question]]
//! kind = "prints"                 # "What does this print?"
//! listing = "ch06/join_set_failure:fail"       # the code shown
//! line = "finished:"              # the one line of its measured output starting so
//! choices = ["finished: 0 of 5"]  # the wrong answers
//! answer = 1                      # where the measured line goes among them
//! why = "..."
//! ```

use std::fmt::Write;
use std::path::Path;

use serde::Deserialize;

use crate::figure::escape;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Quiz {
    question: Vec<Question>,
}

#[derive(Deserialize, Default, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Kind {
    #[default]
    Choice,
    Compiles,
    Prints,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Question {
    #[serde(default)]
    kind: Kind,
    #[serde(default)]
    prompt: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    listing: Option<String>,
    #[serde(default)]
    line: Option<String>,
    #[serde(default)]
    choices: Vec<String>,
    #[serde(default)]
    answer: Option<usize>,
    why: String,
}

/// What the kinds of question fed by listings need from the book.
pub trait Sources {
    /// The code of `chNN/name[:anchor]`, as a page shows it.
    fn code(&mut self, target: &str) -> Result<String, String>;
    /// Whether the listing `chNN/name` is one that must not compile.
    fn compile_fail(&mut self, id: &str) -> Result<bool, String>;
    /// The lines the listing printed: its committed output (for a listing
    /// that must not compile, the compiler's message).
    fn printed(&mut self, id: &str) -> Result<Vec<String>, String>;
}

/// A question made ready to render: its text, code, choices, answer and
/// explanation (already HTML).
struct Ready {
    prompt: String,
    code: Option<String>,
    choices: Vec<String>,
    answer: usize,
    why: String,
}

/// Resolves a question of any kind against the book.
fn ready(question: &Question, sources: &mut dyn Sources) -> Result<Ready, String> {
    let code = match (&question.code, &question.listing) {
        (Some(code), _) => Some(code.clone()),
        (None, Some(target)) => Some(sources.code(target)?),
        (None, None) => None,
    };
    let id = question.listing.as_deref().map(|t| t.split(':').next().unwrap_or(t));
    let why = inline_code(&question.why);
    match question.kind {
        Kind::Choice => {
            let (Some(prompt), Some(answer)) = (&question.prompt, question.answer) else {
                return Err("needs a prompt and an answer".into());
            };
            if question.choices.len() < 2 || answer >= question.choices.len() {
                return Err("needs at least two choices and an answer among them".into());
            }
            let choices = question.choices.iter().map(|c| inline_code(c)).collect();
            Ok(Ready { prompt: inline_code(prompt), code, choices, answer, why })
        }
        Kind::Compiles => {
            let Some(id) = id else { return Err("needs the listing it shows".into()) };
            if !question.choices.is_empty() || question.answer.is_some() || question.line.is_some()
            {
                return Err("takes its choices and answer from the listing: give neither".into());
            }
            let refused = sources.compile_fail(id)?;
            let why = if refused {
                let printed = sources.printed(id)?;
                let Some(message) = printed.iter().find(|l| l.starts_with("error")) else {
                    return Err(format!("{id}'s captured output holds no `error` line"));
                };
                format!("The compiler refused it: <code>{}</code>. {why}", escape(message))
            } else {
                format!("It compiles: the chapter runs it. {why}")
            };
            let prompt = question.prompt.as_deref().unwrap_or("Does this compile?");
            let choices = ["Yes, it compiles", "No, the compiler refuses it"];
            let choices = choices.map(str::to_string).to_vec();
            Ok(Ready { prompt: inline_code(prompt), code, choices, answer: refused.into(), why })
        }
        Kind::Prints => {
            let (Some(id), Some(start)) = (id, &question.line) else {
                return Err(
                    "needs the listing it shows and the start of a `line` it printed".into()
                );
            };
            let printed = sources.printed(id)?;
            let lines: Vec<&String> = printed.iter().filter(|l| l.starts_with(start)).collect();
            let [measured] = lines[..] else {
                return Err(format!(
                    "{id} printed {} lines starting with {start:?}, not one",
                    lines.len()
                ));
            };
            let answer = question.answer.unwrap_or(0);
            if question.choices.is_empty() || answer > question.choices.len() {
                return Err(
                    "needs wrong choices, and an answer at most their number (where the measured line goes)"
                        .into(),
                );
            }
            if question.choices.iter().any(|c| c.trim() == measured.trim()) {
                return Err(format!("a wrong choice is what {id} printed: {measured:?}"));
            }
            let mut choices: Vec<String> =
                question.choices.iter().map(|c| format!("<code>{}</code>", escape(c))).collect();
            choices.insert(answer, format!("<code>{}</code>", escape(measured.trim_end())));
            let default = format!("What does this print on the line that starts `{start}`?");
            let prompt = inline_code(question.prompt.as_deref().unwrap_or(&default));
            let why = format!("The measured output says so. {why}");
            Ok(Ready { prompt, code, choices, answer, why })
        }
    }
}

/// The quiz in `file` as HTML, or what is wrong with it.
pub fn quiz(file: &Path, name: &str, sources: &mut dyn Sources) -> Result<String, String> {
    let text =
        std::fs::read_to_string(file).map_err(|_| format!("no quiz file {}", file.display()))?;
    let quiz: Quiz = toml::from_str(&text)
        .map_err(|e| format!("{} is not a valid quiz: {e}", file.display()))?;
    let mut html = format!("<div class=\"quiz\" id=\"quiz-{name}\">");
    for (index, question) in quiz.question.iter().enumerate() {
        let number = index + 1;
        let question = ready(question, sources)
            .map_err(|problem| format!("{}: question {number} {problem}", file.display()))?;
        let id = format!("quiz-{name}-{number}");
        let _ = write!(
            html,
            "<fieldset class=\"quiz-question\" id=\"{id}\" data-answer=\"{}\"><legend>Question {number}</legend><p>{}</p>",
            question.answer, question.prompt
        );
        if let Some(code) = &question.code {
            // One line of HTML: a blank line would end the HTML block in Markdown.
            let code = escape(code.trim_end()).replace('\n', "&#10;");
            let _ = write!(html, "<pre><code>{code}</code></pre>");
        }
        for (choice, text) in question.choices.iter().enumerate() {
            let _ = write!(
                html,
                "<label class=\"quiz-choice\"><input type=\"radio\" name=\"{id}\" value=\"{choice}\"> {text}</label>"
            );
        }
        let _ = write!(
            html,
            "<button type=\"button\" class=\"quiz-check\">Check</button><p class=\"quiz-verdict\" aria-live=\"polite\"></p><p class=\"quiz-why\" hidden>{}</p></fieldset>",
            question.why
        );
    }
    html.push_str("</div>\n");
    Ok(html)
}

/// Escaped text with `backticks` as <code>.
pub fn inline_code(text: &str) -> String {
    escape(text.trim())
        .split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { format!("<code>{part}</code>") } else { part.to_string() })
        .collect::<String>()
        .replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A book of two listings: `ch99/broken`, which the compiler refused,
    /// and `ch99/fixed`, which printed two lines.
    struct Book;

    impl Sources for Book {
        fn code(&mut self, target: &str) -> Result<String, String> {
            Ok(format!("// the code of {target}"))
        }
        fn compile_fail(&mut self, id: &str) -> Result<bool, String> {
            match id {
                "ch99/broken" => Ok(true),
                "ch99/fixed" => Ok(false),
                _ => Err(format!("no listing {id}")),
            }
        }
        fn printed(&mut self, id: &str) -> Result<Vec<String>, String> {
            match id {
                "ch99/broken" => {
                    Ok(vec!["error[E0277]: `Rc<u8>` cannot be sent".into(), "  -->".into()])
                }
                _ => Ok(vec!["tasks: 5".into(), "finished: 2 of 5".into()]),
            }
        }
    }

    fn render(toml: &str) -> Result<String, String> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ch99.toml");
        std::fs::write(&file, toml).unwrap();
        quiz(&file, "ch99", &mut Book)
            .map_err(|e| e.replace(&dir.path().display().to_string(), "DIR"))
    }

    fn check(toml: &str, expected: Result<&str, &str>) {
        assert_eq!(render(toml).as_deref(), expected.map_err(str::to_string).as_deref());
    }

    #[test]
    fn does_it_compile_takes_its_answer_and_message_from_the_listing() {
        let broken = render("[[question]]\nkind = \"compiles\"\nlisting = \"ch99/broken:spawn\"\nwhy = \"Rc is not Send.\"\n").unwrap();
        assert!(broken.contains("data-answer=\"1\""), "{broken}");
        assert!(
            broken.contains("<pre><code>// the code of ch99/broken:spawn</code></pre>"),
            "{broken}"
        );
        assert!(broken.contains("The compiler refused it: <code>error[E0277]: `Rc&lt;u8&gt;` cannot be sent</code>. Rc is not Send."), "{broken}");
        let fixed = render(
            "[[question]]\nkind = \"compiles\"\nlisting = \"ch99/fixed\"\nwhy = \"Arc is.\"\n",
        )
        .unwrap();
        assert!(fixed.contains("data-answer=\"0\""), "{fixed}");
        assert!(fixed.contains("It compiles: the chapter runs it. Arc is."), "{fixed}");
        let answered = render(
            "[[question]]\nkind = \"compiles\"\nlisting = \"ch99/fixed\"\nanswer = 0\nwhy = \"\"\n",
        );
        assert_eq!(
            answered.unwrap_err(),
            "DIR/ch99.toml: question 1 takes its choices and answer from the listing: give neither"
        );
    }

    #[test]
    fn what_does_it_print_puts_the_measured_line_among_the_wrong_ones() {
        let toml = "[[question]]\nkind = \"prints\"\nlisting = \"ch99/fixed\"\nline = \"finished:\"\nchoices = [\"finished: 0 of 5\", \"finished: 5 of 5\"]\nanswer = 1\nwhy = \"Two ran.\"\n";
        let html = render(toml).unwrap();
        assert!(html.contains("data-answer=\"1\""), "{html}");
        assert!(html.contains("value=\"0\"> <code>finished: 0 of 5</code></label><label class=\"quiz-choice\"><input type=\"radio\" name=\"quiz-ch99-1\" value=\"1\"> <code>finished: 2 of 5</code>"), "{html}");
        assert!(
            html.contains("What does this print on the line that starts <code>finished:</code>?"),
            "{html}"
        );
        let none = render(&toml.replace("line = \"finished:\"", "line = \"gone\""));
        assert_eq!(
            none.unwrap_err(),
            "DIR/ch99.toml: question 1 ch99/fixed printed 0 lines starting with \"gone\", not one"
        );
        let same = render(&toml.replace("finished: 0 of 5", "finished: 2 of 5"));
        assert_eq!(
            same.unwrap_err(),
            "DIR/ch99.toml: question 1 a wrong choice is what ch99/fixed printed: \"finished: 2 of 5\""
        );
    }

    #[test]
    fn a_question_becomes_a_fieldset_the_page_can_grade() {
        check(
            "[[question]]\nprompt = \"Is `sleep` <blocking>?\"\ncode = \"a\\n\\nb\"\nchoices = [\"yes\", \"no\"]\nanswer = 0\nwhy = \"It is.\"\n",
            Ok(
                "<div class=\"quiz\" id=\"quiz-ch99\"><fieldset class=\"quiz-question\" id=\"quiz-ch99-1\" data-answer=\"0\"><legend>Question 1</legend><p>Is <code>sleep</code> &lt;blocking&gt;?</p><pre><code>a&#10;&#10;b</code></pre><label class=\"quiz-choice\"><input type=\"radio\" name=\"quiz-ch99-1\" value=\"0\"> yes</label><label class=\"quiz-choice\"><input type=\"radio\" name=\"quiz-ch99-1\" value=\"1\"> no</label><button type=\"button\" class=\"quiz-check\">Check</button><p class=\"quiz-verdict\" aria-live=\"polite\"></p><p class=\"quiz-why\" hidden>It is.</p></fieldset></div>\n",
            ),
        );
    }

    #[test]
    fn a_bad_quiz_is_refused() {
        check(
            "[[question]]\nprompt = \"?\"\nchoices = [\"yes\", \"no\"]\nanswer = 2\nwhy = \"\"\n",
            Err("DIR/ch99.toml: question 1 needs at least two choices and an answer among them"),
        );
        let missing = quiz(Path::new("/nonexistent/ch99.toml"), "ch99", &mut Book).unwrap_err();
        assert_eq!(missing, "no quiz file /nonexistent/ch99.toml");
    }
}
