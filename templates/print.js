// The evidence page's Print button opens the browser's own print dialog.
document.getElementById("print")?.addEventListener("click", () => window.print());
