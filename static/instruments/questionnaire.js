// Keeps the "answered" count and progress bar of a questionnaire page current, and
// moves focus to the error summary after a failed submit. The page works without it.
const form = document.querySelector("[data-questionnaire]");
if (form) {
  const count = form.querySelector("[data-answered-count]");
  const bar = form.querySelector("[data-progress-bar]");
  const groups = [...new Set([...form.querySelectorAll("input[type=radio]")].map((input) => input.name))];
  const update = () => {
    const answered = groups.filter((name) => form.querySelector(`input[name="${name}"]:checked`)).length;
    count.textContent = answered;
    bar.style.width = `${groups.length ? (100 * answered) / groups.length : 0}%`;
  };
  form.addEventListener("change", update);
  update();
  const errors = document.getElementById("answer-errors");
  if (errors) errors.focus();
}
