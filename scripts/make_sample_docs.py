"""Regenerate the binary sample documents in knowledge/handbook (PDF and DOCX) from the text below.

Run with the test extra installed: `python scripts/make_sample_docs.py`.
"""

from __future__ import annotations

from pathlib import Path

HANDBOOK = Path(__file__).resolve().parent.parent / "knowledge" / "handbook"

SECURITY_PAGES = [
    ("Security policy", [
        "This policy applies to everyone at Lumen Works: employees, contractors and interns. It "
        "describes how we protect our customers' data and our own systems. Read it in your first week "
        "and again whenever it changes; the security team announces changes in the #security channel.",
        "The security team is led by the Head of Security, Priya Raman, and can be reached at "
        "security@lumen.example or in the #security channel at any time.",
    ]),
    ("Passwords and accounts", [
        "Use the company password manager (Vaultkeep) for every work password. Passwords must be at "
        "least 16 characters long and unique to each service. Never share a password, not even with IT.",
        "Two-factor authentication is mandatory on every work account. Use a hardware security key "
        "(every employee receives two YubiKeys on their first day) or an authenticator app; SMS codes "
        "are not allowed.",
    ]),
    ("Devices and networks", [
        "Work laptops must have full-disk encryption turned on and lock the screen after 5 minutes "
        "without use. Operating system updates must be installed within 7 days of release.",
        "Connect through the company VPN (Tunnelgate) whenever you use public Wi-Fi, for example in "
        "cafes, hotels or airports. Personal devices may be used for chat and email only, never for "
        "customer data.",
    ]),
    ("Reporting incidents", [
        "Report a suspected security incident within one hour of noticing it: a lost laptop, a phishing "
        "email you clicked, a password typed into the wrong site, or customer data sent to the wrong "
        "person. Write to security@lumen.example or page the security on-call with /page security.",
        "Nobody is blamed for reporting an incident. Reporting late is the only mistake; the sooner we "
        "know, the less damage is done.",
    ]),
]

ONBOARDING = [
    ("Title", "Onboarding at Lumen Works"),
    ("Heading 1", "Your first day"),
    ("p", "Your manager meets you at 9:30 at the office reception, or on a video call if you work "
          "remotely. IT hands over your laptop and two security keys before 11:00."),
    ("p", "You are paired with an onboarding buddy from another team for your first six weeks; "
          "you meet your buddy for lunch on the first day."),
    ("Heading 1", "Your first week"),
    ("p", "Read the security policy and the time off page of the handbook, set up your accounts in "
          "Vaultkeep, and join the #announcements, #team-calendar and #it-help channels."),
    ("p", "On Thursday of your first week you attend the company introduction, where each "
          "department head presents their team."),
    ("Heading 1", "Your first 90 days"),
    ("p", "At 30, 60 and 90 days you and your manager review your goals together. The 90-day "
          "review ends the probation period."),
    ("table", [["Milestone", "When"], ["First pull request or first customer call", "Week 2"],
               ["Join the on-call rotation (engineers)", "Month 3"]]),
]


def make_pdf() -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Lumen Works security policy")
    for heading, paragraphs in SECURITY_PAGES:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.multi_cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
    pdf.output(str(HANDBOOK / "security-policy.pdf"))


def make_docx() -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "Onboarding at Lumen Works"
    for style, content in ONBOARDING:
        if style == "p":
            document.add_paragraph(content)
        elif style == "table":
            table = document.add_table(rows=0, cols=2)
            for row in content:
                cells = table.add_row().cells
                cells[0].text, cells[1].text = row
        else:
            document.add_paragraph(content, style=style)
    document.save(str(HANDBOOK / "onboarding.docx"))


if __name__ == "__main__":
    make_pdf()
    make_docx()
    print(f"wrote {HANDBOOK / 'security-policy.pdf'} and {HANDBOOK / 'onboarding.docx'}")
