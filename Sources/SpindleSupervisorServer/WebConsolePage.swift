/// The web console's documents, compiled into the program: the status page (its style sheet and
/// its script inside it) and the log page. Every value put in is already HTML-escaped.
enum WebConsolePage {
    /// The status page.
    /// - Parameters:
    ///   - message: The message above the table, or `nil`.
    ///   - head: The heading cells of the columns before Action.
    ///   - rows: The table's rows.
    ///   - empty: Whether there is no process (the table then says so).
    ///   - version: The supervisor version spindled reports.
    ///   - identification: supervisord's identification.
    /// - Returns: The page.
    static func status(message: String?, head: String, rows: String, empty: Bool, version: String, identification: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Supervisor Status</title>
        <style>\(style)</style>
        </head>
        <body>
        <div id="wrapper">
        <div id="header"><h1>\(identification)</h1><span id="live" class="live-wait">connecting…</span></div>
        <div id="content">
        <div id="statusmessage" class="\(message == nil ? "hidden" : "status_msg")">\(message ?? "")</div>
        <form id="form" action="index.html" method="post">
        <ul id="buttons" class="clr">
        <li class="action-button"><a href="index.html?action=refresh" data-action="refresh">Refresh</a></li>
        <li class="action-button"><a href="index.html?action=restartall" data-action="restartall">Restart All</a></li>
        <li class="action-button"><a href="index.html?action=stopall" data-action="stopall">Stop All</a></li>
        </ul>
        <table cellspacing="0" id="statustable">
        <thead><tr>\(head)<th class="action">Action</th></tr></thead>
        <tbody id="tbody">
        \(rows)</tbody>
        </table>
        <p id="noprograms" class="\(empty ? "" : "hidden")">No programs to manage</p>
        </form>
        </div>
        </div>
        <div id="footer" class="clr">spindled, supervisor \(version) interface · <a href="metrics">metrics</a></div>
        <script>\(script)</script>
        </body>
        </html>

        """
    }

    /// The log page.
    /// - Parameters:
    ///   - title: The title.
    ///   - text: The end of the log.
    ///   - refresh: The page's own address, for its Refresh button; `nil` without a process.
    /// - Returns: The page.
    static func tail(title: String, text: String, refresh: String?) -> String {
        let button = refresh.map {
            "<div style=\"margin-top: 10px;\"><a href=\"\($0)\" id=\"refresh_anchor\"><input type=\"button\" value=\" Refresh \" name=\"refresh\" /></a></div>"
        } ?? ""
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8" />
            <title>\(title)</title>
            </head>
            <body>
            <div id="content">
            <pre id="tailbody">\(text)</pre>
            <form id="form" action="index.html" method="POST">
            \(button)
            </form>
            </div>
            </body>
            </html>

            """
    }

    static let style = """
        body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 14px; color: #222; margin: 0; background: #f4f5f7; }
        #wrapper { max-width: 1100px; margin: 0 auto; padding: 16px; }
        #header { display: flex; align-items: baseline; justify-content: space-between; }
        #header h1 { font-size: 20px; margin: 8px 0 12px; }
        #live { font-size: 12px; }
        .live-ok { color: #2a7d2a; } .live-error { color: #b3261e; font-weight: bold; } .live-wait { color: #777; }
        .hidden { display: none; }
        .status_msg { background: #fff8d6; border: 1px solid #e5d27a; padding: 8px 12px; margin-bottom: 12px; border-radius: 4px; }
        ul#buttons { list-style: none; padding: 0; margin: 0 0 12px; display: flex; gap: 8px; }
        .action-button a, td.action a { display: inline-block; text-decoration: none; }
        .action-button a { background: #fff; border: 1px solid #bbb; border-radius: 4px; padding: 4px 12px; color: #222; }
        table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid #ddd; }
        th { text-align: left; background: #e9ebef; padding: 6px 8px; font-weight: 600; }
        td { padding: 6px 8px; border-top: 1px solid #eee; vertical-align: top; }
        tr.shade td { background: #fafbfc; }
        td.action ul { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 4px 10px; }
        td.action a { color: #1a55a6; }
        td.action a.busy { color: #999; pointer-events: none; }
        .statusrunning { color: #2a7d2a; font-weight: bold; } .statuserror { color: #b3261e; font-weight: bold; } .statusnominal { color: #555; font-weight: bold; }
        #footer { max-width: 1100px; margin: 0 auto; padding: 0 16px 16px; color: #777; font-size: 12px; }
        """

    /// Redraws the table from `status.json` every second and runs actions in the background.
    static let script = """
        (function () {
          'use strict';
          var table = document.getElementById('statustable');
          var tbody = document.getElementById('tbody');
          var message = document.getElementById('statusmessage');
          var live = document.getElementById('live');
          var none = document.getElementById('noprograms');
          var busy = {};
          function show(text) {
            message.textContent = text || '';
            message.className = text ? 'status_msg' : 'hidden';
          }
          function element(tag, text, cls) {
            var node = document.createElement(tag);
            if (text !== undefined && text !== null) node.textContent = text;
            if (cls) node.className = cls;
            return node;
          }
          function cellNode(cell) {
            var node;
            if (cell.link) {
              node = element('a', cell.text, cell['class']);
              node.href = cell.link;
              node.target = '_blank';
            } else {
              node = element('span', cell.text, cell['class']);
            }
            return node;
          }
          function render(data) {
            var headRow = table.tHead.rows[0];
            var heads = data.columns.map(function (c) { return c.id + ':' + c.title; }).join('|') + '|action';
            if (headRow.getAttribute('data-columns') !== heads) {
              headRow.textContent = '';
              data.columns.forEach(function (c) { headRow.appendChild(element('th', c.title, c.id)); });
              headRow.appendChild(element('th', 'Action', 'action'));
              headRow.setAttribute('data-columns', heads);
            }
            var fresh = document.createElement('tbody');
            fresh.id = 'tbody';
            data.processes.forEach(function (p, index) {
              var tr = document.createElement('tr');
              tr.setAttribute('data-name', p.namespec);
              tr.setAttribute('data-state', p.statename);
              if (index % 2 === 1) tr.className = 'shade';
              data.columns.forEach(function (c) {
                var td = element('td', null, c.id);
                td.appendChild(cellNode(p.cells[c.id] || { text: '' }));
                tr.appendChild(td);
              });
              var actions = element('td', null, 'action');
              var list = document.createElement('ul');
              p.actions.forEach(function (a) {
                var li = document.createElement('li');
                var link = element('a', a ? a.name : null, a ? '' : 'hidden');
                if (a) {
                  link.href = a.href;
                  link.name = a.name;
                  if (a.action) {
                    link.setAttribute('data-action', a.action);
                    if (busy[p.namespec]) link.className = 'busy';
                  } else {
                    link.target = '_blank';
                  }
                }
                li.appendChild(link);
                list.appendChild(li);
              });
              actions.appendChild(list);
              tr.appendChild(actions);
              fresh.appendChild(tr);
            });
            table.replaceChild(fresh, tbody);
            tbody = fresh;
            none.className = data.processes.length ? 'hidden' : '';
          }
          function getJSON(url) {
            return fetch(url, { headers: { 'Accept': 'application/json' }, cache: 'no-store', credentials: 'same-origin' })
              .then(function (response) {
                if (!response.ok) throw new Error('HTTP ' + response.status);
                return response.json();
              });
          }
          function poll() {
            getJSON('status.json').then(function (data) {
              render(data);
              live.textContent = 'live · ' + new Date().toLocaleTimeString();
              live.className = 'live-ok';
            }).catch(function (error) {
              live.textContent = 'not connected (' + error.message + ')';
              live.className = 'live-error';
            }).then(function () { setTimeout(poll, 1000); });
          }
          document.addEventListener('click', function (event) {
            var link = event.target.closest ? event.target.closest('a[data-action]') : null;
            if (!link || link.classList.contains('busy')) return;
            event.preventDefault();
            var row = link.closest('tr');
            var name = row ? row.getAttribute('data-name') : '';
            if (name) busy[name] = true;
            link.classList.add('busy');
            show(link.textContent + (name ? ' ' + name : '') + '…');
            getJSON(link.getAttribute('href')).then(function (data) {
              if (name) delete busy[name];
              show(data.message);
              render(data);
            }).catch(function (error) {
              if (name) delete busy[name];
              show('ERROR: ' + error.message);
            });
          });
          poll();
        })();
        """
}
