namespace ScoreCam.Onnx.Tests.Support;

/// <summary>
/// JavaScript that reads an HTML report back in the browser, once every image has decoded: each image's natural width
/// (0 when it did not decode), the resources fetched, and per entry its name, captions, predictions, target, boxes
/// (the first as fractions of its picture), per figure its first box and its colour bar's ticks (text, distance right of
/// the picture, height as a fraction of it), counterfactual check rows and metrics rows; the failures and the summary rows.
/// </summary>
internal static class ReportPageScript
{
    public const string Read = """
        Promise.all([...document.images].map(i => i.decode().then(() => i.naturalWidth, () => 0))).then(widths => {
          const text = e => e.textContent;
          const rows = table => table ? [...table.querySelectorAll('tr')].slice(1).map(r => [text(r.querySelector('th')), ...[...r.querySelectorAll('td')].map(text)]) : [];
          const fraction = (box, img) => {
            const b = box.getBoundingClientRect(), i = img.getBoundingClientRect();
            return [(b.left - i.left) / i.width, (b.top - i.top) / i.height, b.width / i.width, b.height / i.height];
          };
          return {
            widths,
            resources: performance.getEntriesByType('resource').length,
            entries: [...document.querySelectorAll('.entry')].map(e => ({
              name: text(e.querySelector('h2')),
              captions: [...e.querySelectorAll('figcaption')].map(text),
              predictions: [...e.querySelectorAll('tr.prediction')].map(r => [text(r.querySelector('.name')), text(r.querySelector('.value'))]),
              target: [text(e.querySelector('table.target .name')), text(e.querySelector('table.target .value'))],
              boxes: e.querySelectorAll('.box').length,
              firstBox: e.querySelector('.box') ? fraction(e.querySelector('.box'), e.querySelector('img')) : null,
              figures: [...e.querySelectorAll('figure')].map(f => {
                const img = f.querySelector('img'), i = img.getBoundingClientRect(), box = f.querySelector('.box');
                return {
                  box: box ? fraction(box, img) : null,
                  ticks: [...f.querySelectorAll('.tick')].map(t => {
                    const r = t.getBoundingClientRect();
                    return { text: text(t), gap: r.left - i.right, height: ((r.top + r.bottom) / 2 - i.top) / i.height };
                  }),
                };
              }),
              counterfactual: rows(e.querySelector('table.counterfactual')),
              metrics: rows(e.querySelector('table.metrics')),
            })),
            failures: [...document.querySelectorAll('.failures li')].map(text),
            summary: rows(document.querySelector('table.summary')),
          };
        })
        """;
}
