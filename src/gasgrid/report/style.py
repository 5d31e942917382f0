"""The report's stylesheet (inline in the page; system fonts only, nothing fetched)."""

CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --bg:#f5f7fa; --ok:#1e8449; --bad:#b03a2e; --brand:#1f5fa8; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font: 14px/1.5 Inter, "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 40px; }
header h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
.subtitle { color: var(--muted); margin: 0 0 16px; }
.verdict { border-radius: 8px; padding: 14px 18px; margin: 0 0 16px; color: white; }
.verdict.ok { background: var(--ok); } .verdict.bad { background: var(--bad); }
.verdict-title { font-size: 20px; font-weight: 700; letter-spacing: 0.02em; }
.verdict-msg { opacity: 0.95; margin-top: 2px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 10px; margin-bottom: 6px; }
.kpi { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.kpi-label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
.kpi-value { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; }
.kpi-unit { color: var(--muted); font-size: 12px; }
section { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px;
          margin-top: 18px; }
section h2 { font-size: 18px; margin: 0 0 6px; color: var(--brand); }
section h3 { font-size: 14px; margin: 18px 0 6px; }
.caption { color: var(--muted); margin: 0 0 10px; }
.muted { color: var(--muted); } .small { font-size: 12px; } .ok-text { color: var(--ok); font-weight: 600; }
table.data { border-collapse: collapse; width: 100%; margin-top: 12px; font-size: 12.5px;
             font-variant-numeric: tabular-nums; }
table.data th { text-align: left; background: #f0f3f7; border-bottom: 2px solid var(--line); padding: 6px 8px;
                font-weight: 600; }
table.data td { border-bottom: 1px solid var(--line); padding: 5px 8px; vertical-align: top; }
table.data tr:hover td { background: #fafbfc; }
table.assumptions td.topic { font-weight: 600; white-space: nowrap; }
table.assumptions td.src { width: 24%; }
.tag { display: inline-block; border-radius: 4px; padding: 0 5px; margin: 1px 0; font-size: 11.5px;
       font-weight: 600; white-space: normal; }
.tag-s { background: #d5f5e3; color: #145a32; } .tag-e { background: #fdebd0; color: #7e5109; }
.tag-c { background: #e8daef; color: #4a235a; }
footer { color: var(--muted); font-size: 12px; text-align: center; margin-top: 24px; }
@media print { body { background: white; } section { break-inside: avoid; } }
"""
