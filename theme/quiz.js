// Grades the workbook's quizzes in the page: no server, no storage.
// Each question is a fieldset.quiz-question whose data-answer is the index of
// the right choice; the Check button writes the verdict next to it.
(function () {
    "use strict";
    function grade(question) {
        var picked = question.querySelector("input[type=radio]:checked");
        var verdict = question.querySelector(".quiz-verdict");
        var why = question.querySelector(".quiz-why");
        if (!picked) {
            verdict.textContent = "Pick an answer first.";
            return;
        }
        var right = picked.value === question.dataset.answer;
        verdict.textContent = right ? "Correct." : "Not quite: try another answer.";
        verdict.className = "quiz-verdict " + (right ? "quiz-right" : "quiz-wrong");
        if (why) {
            why.hidden = !right;
        }
    }
    document.addEventListener("click", function (event) {
        var button = event.target.closest && event.target.closest(".quiz-check");
        if (button) {
            grade(button.closest(".quiz-question"));
        }
    });
})();
