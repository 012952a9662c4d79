// Article editor: the slug follows the title until someone edits the slug by hand.
(function () {
  "use strict";
  var title = document.getElementById("title");
  var slug = document.getElementById("slug");
  if (!title || !slug) return;

  function slugify(text) {
    return text
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 120)
      .replace(/-+$/, "");
  }

  // An existing slug that doesn't match its title was chosen by a person: leave it.
  var following = !slug.value || slug.value === slugify(title.value);
  title.addEventListener("input", function () {
    if (following) slug.value = slugify(title.value);
  });
  slug.addEventListener("input", function () {
    following = slug.value === "" || slug.value === slugify(title.value);
  });
})();
