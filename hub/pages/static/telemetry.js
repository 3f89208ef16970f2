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
  series.on("plotly_relayout", (change) => {
    if (change["xaxis.autorange"] || change.autosize) return select(null);
    const range = change["xaxis.range"] || (change["xaxis.range[0]"] !== undefined
      ? [change["xaxis.range[0]"], change["xaxis.range[1]"]] : null);
    const any = Object.keys(change).find((key) => /^xaxis\d*\.range\[0\]$/.test(key));
    if (range) return select(range);
    if (any) return select([change[any], change[any.replace("[0]", "[1]")]]);
  });
}
