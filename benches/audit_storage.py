#!/usr/bin/env python3
"""Storage per collaboration with its events, on SQLite (issue 10 item 2).

Starts the given samverkan binary on a fresh SQLite file, walks N collaborations through creation,
the register contact, an edit, the ethics approval and a first agreement version, stops it and
reports the bytes per collaboration from SQLite's dbstat (pages in use per table and index),
with and without the agreement files.

    python3 benches/audit_storage.py target/debug/samverkan [N]
"""
import json, os, socket, sqlite3, subprocess, sys, tempfile, time, urllib.request

BIN = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 50


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def call(base, method, path, token=None, body=None):
    req = urllib.request.Request(base + path, method=method)
    if token:
        req.add_header("authorization", "Bearer " + token)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, data) as r:
        return json.loads(r.read() or b"null")


def main():
    work = tempfile.mkdtemp()
    db = os.path.join(work, "m.db")
    port = free_port()
    env = dict(os.environ, DATABASE_URL="sqlite://" + db, SAMVERKAN_ADDR=f"127.0.0.1:{port}",
               RUST_LOG="error", SAMVERKAN_CONFIG_DIR=work)
    env.pop("SAMVERKAN_TEMPLATES_DIR", None)
    srv = subprocess.Popen([os.path.abspath(BIN)], cwd=work, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            call(base, "GET", "/health/ready")
            break
        except Exception:
            time.sleep(0.1)
    tok = lambda a: call(base, "POST", "/api/v1/local/token", body={"account": a})["token"]
    admin, company = tok("admin"), tok("company")
    orgs = {o["name"]: o["id"] for o in call(base, "GET", "/api/v1/organisations?per_page=200", admin)["items"]}
    reg = [r["id"] for r in call(base, "GET", "/api/v1/registers?per_page=200", admin)["items"] if r["code"] == "EX-HJARTA"]
    person = lambda n, t: {"name": n, "title": t, "email": n.split(" ")[0].lower() + "@example.se"}
    terms = {
        "background": "Hjärtinfarkt är en vanlig dödsorsak; långtidsutfallen efter olika strategier är ofullständigt kända.",
        "research_plan_summary": "Registerbaserad kohortstudie 2015–2025 med propensity score-matchning.",
        "goals": ["Jämföra femårsöverlevnad mellan strategierna.", "Publicera i en referentgranskad tidskrift."],
        "deliverables": [
            {"what": "Pseudonymiserat datauttag", "due": "2026-11-01", "by": "Uppsala Clinical Research Center"},
            {"what": "Slutrapport till registret", "due": "2027-09-01", "by": "Exempeluniversitetet"}],
        "parties": [
            {"organisation": orgs["Region Uppsala"], "address": "Box 602, 751 25 Uppsala",
             "contact": person("Lars Jurist", "Registerjurist"), "signatory": person("Maria Direktör", "Direktör")},
            {"organisation": orgs["Exempeluniversitetet"], "address": "Box 256, 751 05 Uppsala",
             "contact": person("Per Forskare", "Projektledare"), "signatory": person("Eva Prefekt", "Prefekt")},
            {"organisation": orgs["Exempel Läkemedel AB"], "address": "Vasagatan 10, 111 20 Stockholm",
             "contact": person("Karin Företagsson", "Medical Affairs"), "signatory": person("Olof Vd", "VD")}],
        "variable_descriptions": {"alder": "Ålder, år", "kon": "Kön", "diagnosdatum": "Datum för diagnos", "behandling": "Behandlingsstrategi"},
        "period_from": "2015-01-01", "period_to": "2025-12-31",
        "transfer_method": "Krypterad filöverföring", "encryption": "AES-256", "password_sent_separately": True,
        "data_protection": {"storage": "Universitetets säkra server.", "access": ["Per Forskare", "En biostatistiker"]},
        "publication": {"acknowledgement": "Författarna tackar Exempelregistret.", "review_days": 30},
        "report_back": "Resultaten återrapporteras till registrets styrgrupp.",
        "costs": {"estimate": 11400000, "hourly_rate": 95000, "hours": 120, "expenses": [],
                  "invoicing_schedule": "Vid leverans.", "vat_rate_bp": 2500, "payment_terms_days": 30, "payer": "company"},
        "term": {"start": "2026-09-15", "end": "2027-12-31", "notice_days": 90},
        "archiving": {"delete_within_days": 30, "confirmed_by": "Projektledaren"},
        "disputes": {"venue": "Uppsala tingsrätt"},
        "product": {"name": "Exempelmab", "authorisation": "EU/1/26/0001"},
    }
    for i in range(N):
        c = call(base, "POST", "/api/v1/collaborations", company, {
            "title": f"Långtidsutfall efter hjärtinfarkt {i}",
            "purpose": "Att jämföra långtidsutfall mellan behandlingsstrategier.",
            "research_question": "Skiljer sig femårsöverlevnaden mellan strategierna?",
            "research_principal": orgs["Exempeluniversitetet"], "registers": reg,
            "requested_variables": ["alder", "kon", "diagnosdatum", "behandling"],
            "data_kind": "pseudonymised",
            "intake": {"purpose": "research", "company_receives": "aggregated", "principal_receives": "pseudonymised",
                       "analysis_by": "principal", "sector": "pharma", "external_processor": False,
                       "identity_numbers_requested": False, "effort_beyond_routine": False, "key_retention_months": 3}})
        cid = c["collaboration"]["id"]
        call(base, "POST", f"/api/v1/collaborations/{cid}/transitions", company, {"to": "register_contact"})
        call(base, "PATCH", f"/api/v1/collaborations/{cid}", company, {"title": f"Ny titel {i}"})
        call(base, "POST", f"/api/v1/collaborations/{cid}/actions", company,
             {"action": "record_ethics_approval", "reference": "2026-01234-01", "decided_on": "2026-08-20"})
        call(base, "POST", f"/api/v1/collaborations/{cid}/agreements", company, {"terms": terms})
    srv.terminate()
    srv.wait()
    con = sqlite3.connect(db)
    con.execute("VACUUM")
    rows = con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
    names = dict(con.execute("SELECT name, tbl_name FROM sqlite_master").fetchall())
    per_table = {}
    for name, size in rows:
        per_table[names.get(name, name)] = per_table.get(names.get(name, name), 0) + size
    events = con.execute("SELECT COUNT(*) FROM audit_events WHERE stream LIKE 'collaboration:%'").fetchone()[0]
    collab = sum(v for k, v in per_table.items() if k.startswith("collaboration") or k == "cpua_reviews")
    audit = per_table.get("audit_events", 0)
    files = per_table.get("agreement_versions", 0)
    print(f"{N} collaborations, {events} events ({events / N:.0f} each)")
    print(f"  state and projections: {collab / N:8.0f} B per collaboration")
    print(f"  audit events:          {audit / N:8.0f} B per collaboration")
    print(f"  together:              {(collab + audit) / N:8.0f} B per collaboration")
    print(f"  agreement versions:    {files / N:8.0f} B per collaboration (DOCX, PDF, HTML)")


main()
