// "Predict, then reveal": each form.predict asks for a number before the
// output that holds it. On submit it shows the measured figure (and the
// CPython twin's, where the page gives one), says how far the guess was, and
// remembers the guess in this browser (localStorage), so the page shows it
// again on the next visit. Offline, no server; Enter submits.
(function () {
    "use strict";
    var KEY = "workbook-predict:";

    function remember(id, value) {
        try {
            window.localStorage.setItem(KEY + id, String(value));
        } catch (e) {
            // Storage may be off (private mode, file://): the reveal still works.
        }
    }
    function recalled(id) {
        try {
            return window.localStorage.getItem(KEY + id);
        } catch (e) {
            return null;
        }
    }
    // How far a guess is from the figure, as a factor: 1 is exact.
    function closeness(guess, value) {
        var factor = Math.max(guess / value, value / guess);
        if (factor <= 1.25) {
            return "Close: within 25% of the figure.";
        }
        if (factor <= 2) {
            return "Not far: within a factor of 2.";
        }
        var times = factor < 10 ? factor.toFixed(1) : Math.round(factor).toString();
        return "Far: " + (guess > value ? "over" : "under") + " by a factor of " + times + ".";
    }
    function reveal(form, guess) {
        var value = parseFloat(form.dataset.value);
        var result = form.querySelector(".predict-result");
        var unit = form.querySelector(".predict-unit").textContent;
        var text = "You predicted " + guess + " " + unit + ". Measured on the machine that built this page: " +
            form.dataset.shown + ". ";
        text += guess > 0 ? closeness(guess, value) : "A guess of zero is never close.";
        if (form.dataset.twinShown) {
            text += " " + form.dataset.twinLabel + ", measured here too: " + form.dataset.twinShown + ".";
        }
        result.textContent = text;
        result.hidden = false;
    }
    document.addEventListener("submit", function (event) {
        var form = event.target;
        if (!form.classList || !form.classList.contains("predict")) {
            return;
        }
        event.preventDefault();
        var guess = parseFloat(form.querySelector("input").value);
        if (isNaN(guess) || guess < 0) {
            return;
        }
        remember(form.id, guess);
        reveal(form, guess);
    });
    function restore() {
        document.querySelectorAll("form.predict").forEach(function (form) {
            var guess = recalled(form.id);
            if (guess !== null && !isNaN(parseFloat(guess))) {
                form.querySelector("input").value = guess;
                reveal(form, parseFloat(guess));
            }
        });
    }
    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", restore);
    } else {
        restore();
    }
})();
