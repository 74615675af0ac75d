using System.Net;
using ScoreCam.Onnx.Methods;

namespace ScoreCam.Onnx.Cli.Serve;

/// <summary>
/// The page at <c>GET /</c>: pick a picture, a method, a target and the colours, see the panel (or the overlay) scaled to
/// the window and the top predictions. Self-contained (no network); errors name the picture.
/// </summary>
internal static class UploadPage
{
    /// <summary>Inline style and script only; the overlay arrives as a data: URI.</summary>
    public const string ContentSecurityPolicy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'";

    public static string Html(string modelName) => $$"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>scorecam serve</title>
        <style>
          body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
          form { display: flex; gap: 0.75rem; align-items: center; flex-wrap: wrap; }
          #overlay { display: block; margin-top: 1rem; max-width: 100%; height: auto; }
          #overlay[hidden], #predictions[hidden] { display: none; }
          #error { color: #b00; }
          #predictions { border-collapse: collapse; margin-top: 0.5rem; }
          #predictions th, #predictions td { padding: 0.15rem 0.75rem 0.15rem 0; text-align: left; }
          #predictions td.p { text-align: right; font-variant-numeric: tabular-nums; }
        </style>
        </head>
        <body>
        <h1>Explain a prediction</h1>
        <p>Model <code>{{WebUtility.HtmlEncode(Path.GetFileName(modelName))}}</code>. The picture is sent to <code>POST /explain</code>.</p>
        <form id="form">
          <input type="file" id="file" accept="image/*" required>
          <label>Method <select id="method">{{string.Concat(MethodCatalog.Names.Select(n => $"<option>{WebUtility.HtmlEncode(n)}</option>"))}}</select></label>
          <label>Target <input id="target" placeholder="top prediction" size="14"></label>
          <label>Colours <select id="colormap"><option>jet</option><option>viridis</option></select></label>
          <label><input type="checkbox" id="panel" checked> input | overlay | heatmap</label>
          <button type="submit" id="submit">Explain</button>
        </form>
        <p id="error" role="alert"></p>
        <p id="result"></p>
        <table id="predictions" hidden><thead><tr><th>Top predictions</th><th>probability</th></tr></thead><tbody></tbody></table>
        <img id="overlay" alt="the explanation" hidden>
        <script>
        document.getElementById('form').addEventListener('submit', async event => {
          event.preventDefault();
          const file = document.getElementById('file').files[0];
          const query = new URLSearchParams({ method: document.getElementById('method').value, colormap: document.getElementById('colormap').value });
          query.set('picture', document.getElementById('panel').checked ? 'panel' : 'overlay');
          const target = document.getElementById('target').value.trim();
          if (target) query.set('target', target);
          const overlay = document.getElementById('overlay'), table = document.getElementById('predictions');
          document.getElementById('error').textContent = '';
          document.getElementById('result').textContent = 'explaining ' + file.name + '...';
          overlay.hidden = true;
          table.hidden = true;
          try {
            const form = new FormData();
            form.append('image', file, file.name);   // a form part carries the file's name into the server's messages
            const response = await fetch('/explain?' + query, { method: 'POST', body: form });
            const body = await response.json();
            if (!response.ok) throw new Error(body.error || response.statusText);
            const name = c => c.label ?? 'class ' + c.index;
            const t = body.target;
            document.getElementById('result').textContent =
              `${body.image}, ${body.method}: target ${name(t)} (${body.forwardPasses} passes, ${body.elapsedMs} ms)`;
            const rows = table.tBodies[0];
            rows.replaceChildren(...body.topPredictions.map(c => {
              const row = document.createElement('tr');
              row.insertCell().textContent = name(c);
              const p = row.insertCell();
              p.className = 'p';
              p.textContent = c.probability.toFixed(4);
              return row;
            }));
            table.hidden = false;
            overlay.src = 'data:image/png;base64,' + body.overlayPng;
            overlay.hidden = false;
          } catch (e) {
            document.getElementById('result').textContent = '';
            document.getElementById('error').textContent = e.message.includes(file.name) ? e.message : `${file.name}: ${e.message}`;
          }
        });
        </script>
        </body>
        </html>
        """;
}
