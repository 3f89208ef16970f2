// Draws every chart of the page (div.plot carrying its figure as JSON) once plotly.js, which
// the hub serves, has loaded. A module: however many charts include it, it runs once a page.
const loaded = new Promise((resolve, reject) => {
  const script = document.createElement("script");
  script.src = "/static/plotly.min.js";
  script.onload = resolve;
  script.onerror = () => reject(new Error("plotly.js did not load"));
  document.head.append(script);
});

async function draw(div) {
  const figure = JSON.parse(div.dataset.figure);
  await Plotly.newPlot(div, figure.data, figure.layout, {
    responsive: true, displaylogo: false,
    // the camera button: a PNG at twice the screen size, for reports
    toImageButtonOptions: {format: "png", filename: div.dataset.filename, scale: 2},
  });
}

export const plotted = loaded.then(() => Promise.all(
  [...document.querySelectorAll("div.plot[data-figure]")].map(draw)));
plotted.then(() => { document.body.dataset.plotted = "yes"; });
