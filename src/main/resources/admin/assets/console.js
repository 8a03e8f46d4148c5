// keyrelay console: progressive enhancements only; every page works without this script.
'use strict';
document.addEventListener('DOMContentLoaded', () => {
  // "Select all" for the permission checkboxes (hidden without JavaScript, where it could not work).
  const all = document.getElementById('grants-all');
  if (all) {
    // Only the permissions this key may give: disabled boxes stay as they are.
    const boxes = Array.from(document.querySelectorAll('input[name="grants"]:not(:disabled)'));
    const sync = () => {
      all.checked = boxes.length > 0 && boxes.every((b) => b.checked);
      all.indeterminate = !all.checked && boxes.some((b) => b.checked);
    };
    all.closest('label').hidden = false;
    all.addEventListener('change', () => {
      boxes.forEach((b) => { b.checked = all.checked; });
      sync();
    });
    boxes.forEach((b) => b.addEventListener('change', sync));
    sync();
  }

  // Copy buttons: copy the text of the element named by data-copy; if the clipboard is not available,
  // select the text so the user can copy it by hand.
  document.querySelectorAll('[data-copy]').forEach((button) => {
    button.addEventListener('click', async () => {
      const target = document.getElementById(button.dataset.copy);
      const text = target.textContent.trim();
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = 'Copied';
      } catch (e) {
        const range = document.createRange();
        range.selectNodeContents(target);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = 'Press Ctrl+C to copy';
      }
    });
  });

  // Forms that ask before doing something that cannot be undone.
  document.querySelectorAll('form[data-confirm]').forEach((form) => {
    form.addEventListener('submit', (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  });
});
