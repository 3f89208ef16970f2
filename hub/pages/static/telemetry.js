// A telemetry session's page: the time range in view on the charts (their shared axis) sets
// the "download this segment" link and the part of the track drawn as selected.
import {plotted} from "/static/plots.js";

await plotted;
const series = document.querySelector("div.plot.series");
const track = document.querySelector("div.plot.track");
const link = document.getElementById("download");
const label = document.getElementById("range");

function select(range) {
  const [since, until] = range ? range.map((t) => Math.max(0, Number(t))) : [null, null];
  if (link) {
    const query = range ? `?since=${since.toFixed(1)}&until=${until.toFixed(1)}` : "";
    link.href = link.dataset.base + query;
    label.textContent = range ? `${since.toFixed(1)}–${until.toFixed(1)} s` : "the whole session";
  }
  if (track) {
    const whole = track.data[0];
    const inside = whole.customdata.map((t) => !range || (t >= since && t < until));
    Plotly.restyle(track, {x: [whole.x.filter((_, i) => inside[i])],
                           y: [whole.y.filter((_, i) => inside[i])]}, [1]);
  }
}

if (series) {
  // a drag on any chart, or the range slider under the last, names its own axis (xaxis3, …)
  series.on("plotly_relayout", (change) => {
    const key = (pattern) => Object.keys(change).find((name) => pattern.test(name));
    const range = key(/^xaxis\d*\.range$/), first = key(/^xaxis\d*\.range\[0\]$/);
    if (range) return select(change[range]);
    if (first) return select([change[first], change[first.replace("[0]", "[1]")]]);
    if (key(/^xaxis\d*\.autorange$/)) return select(null);
  });
}
