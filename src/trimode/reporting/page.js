// The report's interactive parts, inlined into report.html by report.py: plain
// JavaScript, no library, nothing fetched. It makes the tables of class "sortable"
// sortable (click a heading) and filterable (a box above each), and fills the slice
// explorer from the held-out rows embedded as JSON (see explorer.py for their format).
// Its start is the performance mark "report-script-start"; when it is done, <html> gets
// data-ready="true" and the mark "report-interactive" (benchmarks/report_page.py).
"use strict";

(function () {
  performance.mark("report-script-start");

  // ---------------------------------------------------------------- sortable tables

  // A cell's text as a number, null when empty, undefined when it is not a number.
  function numberIn(text) {
    if (text === "") return null;
    if (text === "inf") return Infinity;
    if (text === "-inf") return -Infinity;
    const value = Number(text);
    return Number.isNaN(value) ? undefined : value;
  }

  function cellText(row, column) {
    const cell = row.cells[column];
    return cell ? cell.textContent.trim() : "";
  }

  // Sort the body's rows by a column: by number when every non-empty cell holds one,
  // else by text (numbers inside it in numeric order); empty cells last either way.
  function sortRows(body, column, ascending) {
    const rows = Array.from(body.rows);
    const texts = rows.map((row) => cellText(row, column));
    const numbers = texts.map(numberIn);
    const numeric = numbers.every((value) => value !== undefined);
    const order = rows.map((row, position) => position);
    const direction = ascending ? 1 : -1;
    order.sort((a, b) => {
      const left = numeric ? numbers[a] : texts[a];
      const right = numeric ? numbers[b] : texts[b];
      const leftEmpty = left === null || left === "";
      const rightEmpty = right === null || right === "";
      if (leftEmpty || rightEmpty) return leftEmpty === rightEmpty ? a - b : leftEmpty ? 1 : -1;
      let compared;
      if (numeric) compared = left < right ? -1 : left > right ? 1 : 0;
      else compared = left.localeCompare(right, undefined, { numeric: true });
      return compared * direction || a - b;
    });
    body.append(...order.map((position) => rows[position]));
  }

  function makeSortable(table) {
    const head = table.tHead && table.tHead.rows[0];
    const body = table.tBodies[0];
    if (!head || !body) return;
    Array.from(head.cells).forEach((heading, column) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = heading.textContent;
      button.title = "sort by this column";
      heading.replaceChildren(button);
      button.addEventListener("click", () => {
        const ascending = heading.getAttribute("aria-sort") !== "ascending";
        for (const other of head.cells) other.removeAttribute("aria-sort");
        heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        sortRows(body, column, ascending);
      });
    });
  }

  // A search box above the table: only the rows holding the text stay shown.
  function makeFilterable(table) {
    const body = table.tBodies[0];
    if (!body) return;
    const box = document.createElement("div");
    box.className = "filter";
    const input = document.createElement("input");
    input.type = "search";
    input.placeholder = "filter rows";
    input.setAttribute("aria-label", "filter the rows of the table below");
    const count = document.createElement("span");
    count.className = "note";
    const total = body.rows.length;
    count.textContent = `${total} rows`;
    input.addEventListener("input", () => {
      const wanted = input.value.trim().toLowerCase();
      let shown = 0;
      for (const row of body.rows) {
        row.hidden = wanted !== "" && !row.textContent.toLowerCase().includes(wanted);
        if (!row.hidden) shown += 1;
      }
      count.textContent = wanted === "" ? `${total} rows` : `${shown} of ${total} rows`;
    });
    box.append(input, count);
    const place = table.parentElement.classList.contains("scroll") ? table.parentElement : table;
    place.before(box);
  }

  // ---------------------------------------------------------------- the slice explorer

  // A column of codes (a string of alphabet characters, or a list of integers) as numbers.
  function decode(codes, alphabet) {
    if (typeof codes !== "string") return Int32Array.from(codes);
    const values = new Int32Array(codes.length);
    const position = new Map(Array.from(alphabet, (character, index) => [character, index]));
    for (let row = 0; row < codes.length; row += 1) values[row] = position.get(codes[row]);
    return values;
  }

  // A count as people read it: 1,946, not 1946 (a count never made is 0).
  function counted(count) {
    return (count || 0).toLocaleString("en-US");
  }

  function percent(share) {
    return Number.isFinite(share) ? `${(100 * share).toFixed(1)}%` : "";
  }

  function points(difference, isShare) {
    if (!Number.isFinite(difference)) return "";
    const sign = difference > 0 ? "+" : "";
    return isShare ? `${sign}${(100 * difference).toFixed(1)} pts` : `${sign}${figure(difference)}`;
  }

  // Four significant digits, never in exponent notation, as the report's other tables
  // show numbers (page.py's plain_number): 16530, not 1.653e+4.
  function figure(value) {
    if (!Number.isFinite(value)) return "";
    if (value === 0) return "0";
    const magnitude = Math.floor(Math.log10(Math.abs(value)));
    if (magnitude >= 3) return value.toFixed(0);
    const fixed = value.toFixed(Math.min(100, 3 - magnitude));
    return fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
  }

  function element(name, text, className) {
    const made = document.createElement(name);
    if (text !== undefined) made.textContent = text;
    if (className) made.className = className;
    return made;
  }

  // A bar of value out of scale, with a mark at `mark` (the overall value) if given;
  // with `reference`, a second, thinner bar under the first.
  function bar(value, scale, mark, reference) {
    const outer = element("span", undefined, "bar");
    const width = (share) => `${Math.max(0, Math.min(1, share / scale)) * 100}%`;
    const fill = element("span", undefined, reference === undefined ? "fill" : "fill group");
    fill.style.width = width(value);
    outer.append(fill);
    if (reference !== undefined) {
      const under = element("span", undefined, "fill reference");
      under.style.width = width(reference);
      outer.append(under);
    }
    if (mark !== undefined) {
      const line = element("span", undefined, "mark");
      line.style.left = width(mark);
      outer.append(line);
    }
    return outer;
  }

  function fillTable(table, headings, rows) {
    const head = element("thead");
    const headRow = element("tr");
    for (const heading of headings) headRow.append(element("th", heading));
    head.append(headRow);
    const body = element("tbody");
    for (const cells of rows) {
      const row = element("tr");
      for (const cell of cells) {
        const td = element("td");
        if (cell instanceof Node) td.append(cell);
        else if (cell && typeof cell === "object") {
          td.textContent = cell.text;
          td.className = cell.className || "";
        } else td.textContent = cell;
        row.append(td);
      }
      body.append(row);
    }
    table.replaceChildren(head, body);
    table.hidden = rows.length === 0;
  }

  function legend(group, reference) {
    const line = element("p", undefined, "legend");
    const swatch = (colour) => {
      const made = element("span", undefined, "swatch");
      made.style.background = colour;
      return made;
    };
    line.append(swatch("#dd8452"), group, swatch("#4c72b0"), reference);
    return line;
  }

  // Per slice of the feature: counts over the rows whose code is that slice.
  function countBySlice(codes, slices, add) {
    const totals = Array.from({ length: slices }, () => ({ rows: 0 }));
    for (let row = 0; row < codes.length; row += 1) add(totals[codes[row]], row);
    return totals;
  }

  function increment(counts, key, by) {
    counts[key] = (counts[key] || 0) + (by === undefined ? 1 : by);
  }

  function compared(value, overall) {
    const difference = value - overall;
    const className = difference > 1e-12 ? "worse" : difference < -1e-12 ? "better" : "";
    return { difference, className };
  }

  // The table both tasks show: per slice, its rows and its error against the error over
  // all rows. errorSum(slice) is the slice's summed error (errors, absolute residuals);
  // isShare says it is a rate (shown as a percentage); extra holds more columns, each
  // [heading, cell(slice)]. Returns the overall error.
  function showErrors(table, data, feature, counts, errorSum, isShare, extra) {
    const rows = counts.reduce((sum, slice) => sum + slice.rows, 0);
    const overall = counts.reduce((sum, slice) => sum + errorSum(slice), 0) / rows;
    const errors = counts.map((slice) => errorSum(slice) / slice.rows);
    const highest = Math.max(overall, ...errors);
    const show = isShare ? percent : figure;
    fillTable(
      table,
      [feature.name, "rows", "share of rows", data.error_name, "", "against all rows"].concat(
        extra.map(([heading]) => heading),
      ),
      counts.map((slice, index) => {
        const { difference, className } = compared(errors[index], overall);
        return [
          feature.slices[index],
          String(slice.rows),
          percent(slice.rows / rows),
          show(errors[index]),
          bar(errors[index], highest || 1, overall),
          { text: points(difference, isShare), className },
        ].concat(extra.map(([, cell]) => cell(slice)));
      }),
    );
    return overall;
  }

  function showClassification(data, rows, feature, chosen, parts) {
    const { actual, predicted } = rows;
    const probability = data.probabilities ? data.probabilities[chosen] : null;
    const counts = countBySlice(feature.values, feature.slices.length, (slice, row) => {
      const isActual = actual[row] === chosen;
      const isPredicted = predicted[row] === chosen;
      slice.rows += 1;
      if (actual[row] !== predicted[row]) increment(slice, "errors");
      if (isPredicted && !isActual) increment(slice, "fp");
      else if (!isPredicted && !isActual) increment(slice, "tn");
      else if (!isPredicted) increment(slice, "fn");
      else increment(slice, "tp");
      if (isActual) increment(slice, "actual");
      if (probability) increment(slice, "probability", probability[row] / 1000);
    });
    const total = { rows: 0 };
    for (const slice of counts) {
      for (const [key, value] of Object.entries(slice)) increment(total, key, value);
    }
    const overall = showErrors(
      parts.errors, data, feature, counts, (slice) => slice.errors || 0, true, [],
    );
    const label = data.classes[chosen];
    const share = (count, of) => (of ? (count || 0) / of : NaN);
    fillTable(
      parts.contrast,
      [
        feature.name,
        "false positives",
        "share of false positives",
        "share of true negatives",
        "",
        "false negatives",
        "share of false negatives",
        "share of true positives",
        "",
        `actual share of ${label}`,
        `mean probability of ${label}`,
      ],
      counts.map((slice, index) => {
        const fpShare = share(slice.fp, total.fp);
        const tnShare = share(slice.tn, total.tn);
        const fnShare = share(slice.fn, total.fn);
        const tpShare = share(slice.tp, total.tp);
        return [
          feature.slices[index],
          String(slice.fp || 0),
          percent(fpShare),
          percent(tnShare),
          bar(fpShare || 0, 1, undefined, tnShare || 0),
          String(slice.fn || 0),
          percent(fnShare),
          percent(tpShare),
          bar(fnShare || 0, 1, undefined, tpShare || 0),
          percent((slice.actual || 0) / slice.rows),
          probability ? percent(slice.probability / slice.rows) : "",
        ];
      }),
    );
    parts.legend.replaceChildren(
      legend("false positives / negatives", "their reference (true negatives / positives)"),
    );
    parts.summary.textContent =
      `${counted(total.rows)} held-out rows; ${data.error_name} over all of them: ${percent(overall)}. ` +
      `Class ${label} against the rest: ${counted(total.fp)} false positives ` +
      `(${counted(total.tn)} true negatives), ${counted(total.fn)} false negatives ` +
      `(${counted(total.tp)} true positives).`;
  }

  function showRegression(data, rows, feature, parts) {
    const { residual } = rows;
    const counts = countBySlice(feature.values, feature.slices.length, (slice, row) => {
      slice.rows += 1;
      increment(slice, "error", Math.abs(residual[row]));
      increment(slice, "residual", residual[row]);
    });
    const mean = [
      "mean residual (actual - predicted)",
      (slice) => figure(slice.residual / slice.rows),
    ];
    const overall = showErrors(
      parts.errors, data, feature, counts, (slice) => slice.error, false, [mean],
    );
    fillTable(parts.contrast, [], []);
    parts.legend.replaceChildren();
    parts.summary.textContent =
      `${residual.length} held-out rows; ${data.error_name} over all of them: ` +
      `${figure(overall)}.`;
  }

  function startExplorer(data) {
    const parts = {
      feature: document.getElementById("explorer-feature"),
      klass: document.getElementById("explorer-class"),
      summary: document.getElementById("explorer-summary"),
      errors: document.getElementById("explorer-errors"),
      contrast: document.getElementById("explorer-contrast"),
      legend: element("div"),
    };
    if (!parts.feature || !parts.summary) return;
    parts.contrast.parentElement.before(parts.legend);
    if (data.features.length === 0) {
      parts.summary.textContent = "No feature to slice (only IDs, dropped columns or text).";
      return;
    }
    const features = data.features.map((feature) => ({
      ...feature,
      values: decode(feature.codes, data.alphabet),
    }));
    const rows = data.task === "regression"
      ? { residual: Float64Array.from(data.residual) }
      : {
          actual: decode(data.actual, data.alphabet),
          predicted: decode(data.predicted, data.alphabet),
        };
    features.forEach((feature, index) => {
      parts.feature.append(new Option(`${feature.name} (${feature.kind})`, String(index)));
    });
    parts.feature.value = String(data.first);
    if (parts.klass) {
      data.classes.forEach((label, index) => parts.klass.append(new Option(label, String(index))));
      parts.klass.value = String(data.positive);
    }
    const show = () => {
      const feature = features[Number(parts.feature.value)];
      if (data.task === "regression") showRegression(data, rows, feature, parts);
      else {
        const chosen = parts.klass ? Number(parts.klass.value) : data.positive;
        showClassification(data, rows, feature, chosen, parts);
      }
    };
    parts.feature.addEventListener("change", show);
    if (parts.klass) parts.klass.addEventListener("change", show);
    show();
  }

  // ---------------------------------------------------------------- start

  for (const table of document.querySelectorAll("table.sortable")) {
    makeSortable(table);
    makeFilterable(table);
  }
  const block = document.getElementById("explorer-rows");
  if (block) startExplorer(JSON.parse(block.textContent));
  document.documentElement.setAttribute("data-ready", "true");
  performance.mark("report-interactive");
})();
