[...document.querySelectorAll('fieldset.quiz-question')].map(q => {
  const verdict = q.querySelector('p.quiz-verdict');
  return {
    id: q.id || '',
    answer: q.dataset.answer === undefined ? null : q.dataset.answer.trim(),
    values: [...q.querySelectorAll('input[type=radio]')].map(r => r.value),
    button: !!q.querySelector('button.quiz-check'),
    verdict: verdict ? verdict.textContent.trim() : null,
    inQuiz: !!q.closest('div.quiz'),
  };
})
