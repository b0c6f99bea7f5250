// MathJax 3, served from this site (assets/mathjax, copied from a PyPI package at build
// time): typesets what pymdownx.arithmatex marks, \( … \) inline and \[ … \] displayed.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};
