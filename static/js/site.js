// Runs in <head>: lets CSS show the parts of pages that need JavaScript.
document.documentElement.classList.replace("no-js", "js");
