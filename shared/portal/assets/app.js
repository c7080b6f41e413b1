// Stamp portal: the little a page needs beyond HTML. Print buttons print; a pending
// extract's page reloads itself until the extract is ready.
(function () {
  document.querySelectorAll('[data-print]').forEach(function (b) {
    b.addEventListener('click', function () { window.print(); });
  });
  var s = document.getElementById('extract-status');
  if (s && s.getAttribute('data-status') === 'pending') {
    setTimeout(function () { window.location.reload(); }, 1500);
  }
})();
