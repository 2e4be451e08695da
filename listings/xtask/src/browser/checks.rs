//! The checks on one page: its measured outputs, figures, links and quiz
//! questions, and the search.

use std::time::Duration;

use anyhow::Result;
use serde_json::{Value, json};

use super::tab::Tab;

/// How long the page may take to react to a click or to the search.
const REACT: Duration = Duration::from_secs(5);
const SEARCH: Duration = Duration::from_secs(10);

/// What one page showed.
pub(super) struct Seen {
    pub(super) outputs: usize,
    pub(super) figures: usize,
    pub(super) questions: usize,
    pub(super) predictions: usize,
    pub(super) links: usize,
    pub(super) problems: Vec<String>,
}

impl Tab {
    pub(super) fn check_page(&mut self, url: &str, accessible: bool) -> Result<Seen> {
        self.navigate(url)?;
        let found = self.eval(PAGE_CHECK)?;
        let count = |key: &str| found[key].as_u64().unwrap_or(0) as usize;
        let mut seen = Seen {
            outputs: count("outputs"),
            figures: count("figures"),
            questions: 0,
            predictions: 0,
            links: count("links"),
            problems: strings(&found["problems"]),
        };
        if url.ends_with("/print.html") {
            // Every chapter again on one page: its outputs, figures and links
            // are checked; its quizzes and predictions are the chapters' own.
            seen.problems.extend(self.errors(&strings(&found["broken"]))?);
            return Ok(seen);
        }
        let questions = self.eval(QUESTIONS)?;
        for (index, question) in questions.as_array().into_iter().flatten().enumerate() {
            if let Err(problem) = self.answer(index, question)? {
                let id = question["id"].as_str().unwrap_or("");
                let name = if id.is_empty() {
                    format!("quiz question {}", index + 1)
                } else {
                    format!("quiz question {} (#{id})", index + 1)
                };
                seen.problems.push(format!("{name}: {problem}"));
            }
            seen.questions += 1;
        }
        seen.problems.extend(self.errors(&strings(&found["broken"]))?);
        let (predictions, problems) = self.predict(url)?;
        seen.predictions = predictions;
        seen.problems.extend(problems);
        if accessible {
            seen.problems.extend(self.accessibility(None)?);
        }
        Ok(seen)
    }

    /// Runs axe-core (injected into every page by `check_site`) on the
    /// loaded page, against WCAG 2.1 A and AA; `rules`, if given, narrows it
    /// (`['color-contrast']`). Each serious or critical violation, in words.
    pub(super) fn accessibility(&mut self, rules: Option<&str>) -> Result<Vec<String>> {
        let only = rules.map_or_else(
            || "{type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}".to_string(),
            str::to_string,
        );
        let found = self.eval(&format!(
            "(typeof axe === 'undefined') ? ['axe-core did not load'] : \
             axe.run(document, {{runOnly: {only}, resultTypes: ['violations']}}).then(r => r.violations \
             .filter(v => v.impact === 'serious' || v.impact === 'critical') \
             .map(v => `axe-core: ${{v.impact}} ${{v.id}}, ${{v.help}} (${{v.nodes.length}} element(s), first ${{v.nodes[0].target.join(' ')}})`))"
        ))?;
        Ok(strings(&found))
    }

    /// Answers each "predict, then reveal" on the page from the keyboard (a
    /// guess 10% above the figure, then Enter), expects the figure and the
    /// word "Close", then reloads the page and expects the guess remembered.
    fn predict(&mut self, url: &str) -> Result<(usize, Vec<String>)> {
        let forms = self.eval(
            "[...document.querySelectorAll('form.predict')].map(f => ({id: f.id, value: parseFloat(f.dataset.value), \
             shown: f.dataset.shown, hidden: f.querySelector('.predict-result').hidden, \
             stored: localStorage.getItem('workbook-predict:' + f.id) !== null}))",
        )?;
        let forms = forms.as_array().cloned().unwrap_or_default();
        let mut problems = Vec::new();
        for form in &forms {
            let id = form["id"].as_str().unwrap_or("");
            let name = format!("prediction #{id}");
            // A guess made on another page with this form (index.html copies
            // the first chapter) is shown again, rightly.
            let remembered = form["stored"].as_bool().unwrap_or(false);
            if !form["hidden"].as_bool().unwrap_or(false) && !remembered {
                problems.push(format!("{name}: its result shows before any guess"));
                continue;
            }
            let guess = format!("{}", form["value"].as_f64().unwrap_or(0.0) * 1.1);
            let input = format!("document.getElementById({}).querySelector('input')", json!(id));
            self.eval(&format!("{input}.value = ''"))?;
            if let Err(why) = self.click(&input)? {
                problems.push(format!("{name}: its input cannot be clicked: {why}"));
                continue;
            }
            self.call("Input.insertText", json!({"text": guess}))?;
            for kind in ["keyDown", "keyUp"] {
                let enter = json!({"type": kind, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r"});
                self.call("Input.dispatchKeyEvent", enter)?;
            }
            let result =
                format!("document.getElementById({}).querySelector('.predict-result')", json!(id));
            let shown = form["shown"].as_str().unwrap_or("");
            let text = self.eval_until(
                &format!(
                    "(() => {{ const r = {result}; return r.hidden ? '' : r.textContent; }})()"
                ),
                REACT,
            )?;
            let text = text.as_str().unwrap_or("");
            if !(text.contains(shown) && text.contains("Close")) {
                problems.push(format!(
                    "{name}: typing {guess} and Enter shows {text:?}, not the figure {shown} and \"Close\""
                ));
            }
        }
        if !forms.is_empty() && problems.is_empty() {
            self.navigate(url)?;
            let remembered = self.eval(
                "[...document.querySelectorAll('form.predict')].every(f => !f.querySelector('.predict-result').hidden \
                 && f.querySelector('input').value !== '')",
            )?;
            if remembered != json!(true) {
                problems.push("after a reload, the guesses are not remembered".into());
            }
        }
        Ok((forms.len(), problems))
    }

    /// Answers question `index` wrong, then right, checking each verdict.
    fn answer(
        &mut self,
        index: usize,
        question: &Value,
    ) -> Result<std::result::Result<(), String>> {
        let values = strings(&question["values"]);
        let Some(answer) = question["answer"].as_str() else {
            return Ok(Err("has no data-answer".into()));
        };
        if !values.iter().any(|v| v == answer) {
            return Ok(Err(format!(
                "data-answer=\"{answer}\" names no choice (the choices' values are {values:?})"
            )));
        }
        let Some(wrong) = values.iter().find(|v| *v != answer) else {
            return Ok(Err("has no wrong choice".into()));
        };
        if !question["inQuiz"].as_bool().unwrap_or(false) {
            return Ok(Err("is not inside a div.quiz".into()));
        }
        if !question["button"].as_bool().unwrap_or(false) {
            return Ok(Err("has no button.quiz-check".into()));
        }
        match question["verdict"].as_str() {
            None => return Ok(Err("has no p.quiz-verdict".into())),
            Some(text) if !text.is_empty() => {
                return Ok(Err(format!("its verdict is not empty before any answer: {text:?}")));
            }
            Some(_) => {}
        }
        let fieldset = format!("document.querySelectorAll('fieldset.quiz-question')[{index}]");
        for (choice, expected) in [(wrong.as_str(), "Not quite"), (answer, "Correct")] {
            let radio = format!(
                "[...{fieldset}.querySelectorAll('input[type=radio]')].find(r => r.value === {})",
                json!(choice)
            );
            if let Err(why) = self.click(&radio)? {
                return Ok(Err(format!("choice {choice} cannot be clicked: {why}")));
            }
            if self.eval_until(&format!("{radio}.checked"), REACT)? != json!(true) {
                return Ok(Err(format!("clicking choice {choice} does not check it")));
            }
            if let Err(why) =
                self.click(&format!("{fieldset}.querySelector('button.quiz-check')"))?
            {
                return Ok(Err(format!("its Check button cannot be clicked: {why}")));
            }
            let verdict = self.eval_until(
                &format!(
                    "(() => {{ const t = {fieldset}.querySelector('.quiz-verdict').textContent.trim(); return t.startsWith({}) ? t : ''; }})()",
                    json!(expected)
                ),
                REACT,
            )?;
            if verdict.as_str().is_none_or(str::is_empty) {
                let shown = self.eval(&format!(
                    "{fieldset}.querySelector('.quiz-verdict').textContent.trim()"
                ))?;
                let which = if choice == answer { "right" } else { "wrong" };
                return Ok(Err(format!(
                    "checking the {which} choice {choice} shows {shown}, not \"{expected}...\""
                )));
            }
        }
        Ok(Ok(()))
    }

    /// Opens the search on `url` with its toggle, types `term`, and expects
    /// a result linking to `page`. The number of results, and the problems.
    pub(super) fn check_search(
        &mut self,
        url: &str,
        term: &str,
        page: &str,
    ) -> Result<(usize, Vec<String>)> {
        self.navigate(url)?;
        let mut problems = Vec::new();
        // mdBook 0.5 prefixes its ids with `mdbook-`; older ones did not.
        let toggle = "document.querySelector('#mdbook-search-toggle, #search-toggle')";
        let bar = "document.querySelector('#mdbook-searchbar, #searchbar')";
        if let Err(why) = self.click(toggle)? {
            problems.push(format!(
                "the search toggle (#mdbook-search-toggle) cannot be clicked: {why}"
            ));
            return Ok((0, problems));
        }
        let focused = self.eval_until(
            &format!("(() => {{ const b = {bar}; return !!b && b.offsetParent !== null && document.activeElement === b; }})()"),
            REACT,
        )?;
        if focused != json!(true) {
            problems.push("clicking the search toggle does not show and focus the search bar (#mdbook-searchbar)".into());
            return Ok((0, problems));
        }
        for c in term.chars() {
            let key = c.to_string();
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": "keyDown", "key": key, "text": key, "unmodifiedText": key}),
            )?;
            self.call("Input.dispatchKeyEvent", json!({"type": "keyUp", "key": key}))?;
        }
        let results = self.eval_until(
            "(() => { const list = document.querySelector('#mdbook-searchresults, #searchresults'); \
             const found = list ? [...list.querySelectorAll('li a[href]')].map(a => new URL(a.href).pathname) : []; \
             return found.length ? found : null; })()",
            SEARCH,
        )?;
        let typed = self.eval(&format!("{bar}.value"))?;
        let results = strings(&results);
        if typed != json!(term) {
            problems.push(format!("typing {term:?} into the search bar left {typed} in it"));
        } else if results.is_empty() {
            problems.push(format!(
                "searching for {term:?} shows no result within {} s",
                SEARCH.as_secs()
            ));
        } else if !results
            .iter()
            .any(|r| r.rsplit('/').next() == Some(page.rsplit('/').next().unwrap_or(page)))
        {
            problems.push(format!(
                "searching for {term:?} shows {} result(s), none linking to {page}: {}",
                results.len(),
                results.join(", ")
            ));
        }
        problems.extend(self.errors(&[])?);
        Ok((results.len(), problems))
    }
}

/// The strings in a JSON array.
fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
        .collect()
}

/// The page's measured outputs, figures and links, checked in the page:
/// `{outputs, figures, links, problems, broken}` (the URLs of broken links).
const PAGE_CHECK: &str = include_str!("page_check.js");

/// What each quiz question holds, before any answer.
const QUESTIONS: &str = include_str!("questions.js");
