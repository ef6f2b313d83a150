// Forms that post a command to the JSON API through the offline queue (window.Rantai.submit):
// <form data-post="/url" data-label="what it is" data-done="message">. Named fields become the
// JSON body (numbers stay numbers with data-number; data-split="a,b" splits a/b; empty optional
// fields are left out). A
// command sent reloads the page (it shows the new state); one queued offline says so.
"use strict";
(function () {
  for (const form of document.querySelectorAll("form[data-post]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {};
      for (const field of form.elements) {
        if (!field.name || field.type === "submit" || (field.type === "radio" && !field.checked)) continue;
        if (field.value === "" && !field.required) continue;
        if (field.dataset.split) {  // one choice, several fields: "P327301/2021-01-14" -> facility, day
          const parts = field.value.split("/");
          field.dataset.split.split(",").forEach((name, i) => { body[name] = parts[i]; });
          continue;
        }
        body[field.name] = field.dataset.number !== undefined ? Number(field.value) : field.value;
      }
      const button = form.querySelector("button[type=submit]"), box = form.querySelector(".form-result");
      if (button) button.disabled = true;
      const answer = await window.Rantai.submit(form.dataset.post, body, form.dataset.label || form.dataset.post);
      if (button) button.disabled = false;
      const show = (good, text) => { if (box) { box.hidden = false; box.className = `result form-result ${good ? "good" : "bad"}`; box.textContent = text; } };
      if (answer.status === "sent") { show(true, form.dataset.done || "OK"); setTimeout(() => location.reload(), 400); }
      else if (answer.status === "queued") show(true, answer.message || window.Rantai.words.queued);
      else show(false, answer.message);
    });
  }
})();
