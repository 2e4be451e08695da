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

use std::fmt::Write;
use std::path::Path;

use serde::Deserialize;

use crate::figure::escape;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Quiz {
    question: Vec<Question>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Question {
    prompt: String,
    #[serde(default)]
    code: Option<String>,
    choices: Vec<String>,
    answer: usize,
    why: String,
}

/// The quiz in `file` as HTML, or what is wrong with it.
pub fn quiz(file: &Path, name: &str) -> Result<String, String> {
    let text =
        std::fs::read_to_string(file).map_err(|_| format!("no quiz file {}", file.display()))?;
    let quiz: Quiz = toml::from_str(&text)
        .map_err(|e| format!("{} is not a valid quiz: {e}", file.display()))?;
    let mut html = format!("<div class=\"quiz\" id=\"quiz-{name}\">");
    for (index, question) in quiz.question.iter().enumerate() {
        let number = index + 1;
        if question.choices.len() < 2 || question.answer >= question.choices.len() {
            return Err(format!(
                "{}: question {number} needs at least two choices and an answer among them",
                file.display()
            ));
        }
        let id = format!("quiz-{name}-{number}");
        let _ = write!(
            html,
            "<fieldset class=\"quiz-question\" id=\"{id}\" data-answer=\"{}\"><legend>Question {number}</legend><p>{}</p>",
            question.answer,
            inline_code(&question.prompt)
        );
        if let Some(code) = &question.code {
            // One line of HTML: a blank line would end the HTML block in Markdown.
            let code = escape(code.trim_end()).replace('\n', "&#10;");
            let _ = write!(html, "<pre><code>{code}</code></pre>");
        }
        for (choice, text) in question.choices.iter().enumerate() {
            let _ = write!(
                html,
                "<label class=\"quiz-choice\"><input type=\"radio\" name=\"{id}\" value=\"{choice}\"> {}</label>",
                inline_code(text)
            );
        }
        let _ = write!(
            html,
            "<button type=\"button\" class=\"quiz-check\">Check</button><p class=\"quiz-verdict\" aria-live=\"polite\"></p><p class=\"quiz-why\" hidden>{}</p></fieldset>",
            inline_code(&question.why)
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

    fn check(toml: &str, expected: Result<&str, &str>) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ch99.toml");
        std::fs::write(&file, toml).unwrap();
        let got =
            quiz(&file, "ch99").map_err(|e| e.replace(&dir.path().display().to_string(), "DIR"));
        assert_eq!(got.as_deref(), expected.map_err(str::to_string).as_deref());
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
        let missing = quiz(Path::new("/nonexistent/ch99.toml"), "ch99").unwrap_err();
        assert_eq!(missing, "no quiz file /nonexistent/ch99.toml");
    }
}
