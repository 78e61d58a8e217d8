"""Value domains and text pools of the synthetic HEAT site (a UK charity).

The bundled HEAT mapping maps exactly these call types, statuses, priorities,
categories, sources, groups and journal types, so they are constants here, not seeded.
Every string is encodable in cp1252, the code page of this site's legacy CSV exports.
"""

from __future__ import annotations

from typing import Final

SITES: Final = (
    "Leeds",
    "York",
    "Sheffield",
    "Manchester",
    "Newcastle",
    "Bristol",
    "Birmingham",
    "Cardiff",
    "Glasgow",
    "Norwich",
    "London",
)
REMOTE_SITE: Final = "Remote"

# Phone prefixes from Ofcom's ranges reserved for drama, so no real number is generated;
# each prefix takes three more digits.
SITE_PHONE_PREFIXES: Final = (
    "0113 496 0",
    "01632 960",
    "0114 496 0",
    "0161 496 0",
    "0191 498 0",
    "0117 496 0",
    "0121 496 0",
    "029 2018 0",
    "0141 496 0",
    "01632 961",
    "020 7946 0",
)
REMOTE_PHONE_PREFIX: Final = "07700 900"
EMAIL_DOMAIN: Final = "hopetrust.example"

CUST_TYPES: Final = ("Employee", "Contractor", "Volunteer")
CUST_TYPE_WEIGHTS: Final = (0.70, 0.12, 0.18)

FIRST_NAMES: Final = (
    "Jane", "John", "Sarah", "David", "Emma", "James", "Laura", "Michael", "Rachel",
    "Paul", "Claire", "Mark", "Helen", "Andrew", "Lucy", "Peter", "Katie", "Richard",
    "Hannah", "Stephen", "Amy", "Daniel", "Sophie", "Thomas", "Rebecca", "Gareth",
    "Fiona", "Ian", "Joanne", "Simon", "Nicola", "Chris", "Gemma", "Mohammed", "Aisha",
    "Priya", "Rajesh", "Zoë", "Siân", "Renée", "Chloé", "José", "Björn", "Niamh",
    "Ciarán", "Eilidh", "Dafydd", "Agnieszka", "Tomasz", "Kwame", "Ngozi", "Mei",
    "Wei", "Fatima", "Yusuf", "Margaret", "Brian", "Irene", "Colin", "Doreen",
)  # fmt: skip
LAST_NAMES: Final = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green",
    "Hall", "Wood", "Jackson", "Clarke", "Patel", "Khan", "Lewis", "Harrison", "Hughes",
    "Edwards", "Turner", "Hill", "Moore", "Cooper", "Ward", "Morris", "King", "Watson",
    "Baker", "Harris", "Young", "Allen", "Mitchell", "Anderson", "Bell", "Shaw",
    "O'Brien", "O'Connor", "McDonald", "Fraser", "Campbell", "Ahmed", "Begum",
    "Hussain", "Nowak", "Kowalski", "Okafor", "Mensah", "Chen", "Wong", "Müller",
    "Núñez",
    "Smith-Jones", "Ellis-Clarke", "Lloyd", "Pritchard", "Owen", "Morgan", "Reid",
)  # fmt: skip
JOB_TITLES: Final = {
    "Employee": (
        "Support Worker", "Fundraising Officer", "Finance Assistant", "Shop Manager",
        "Volunteer Coordinator", "Project Officer", "Communications Officer",
        "HR Adviser", "Service Manager", "Administrator", "Data Officer",
        "Regional Director", "Helpline Adviser", "Events Officer", "Caseworker",
    ),
    "Contractor": (
        "Contractor - IT", "Agency Support Worker", "Interim Finance Manager",
        "Consultant", "Locum Caseworker",
    ),
    "Volunteer": (
        "Shop Volunteer", "Helpline Volunteer", "Befriender", "Trustee",
        "Event Volunteer", "Driver",
    ),
}  # fmt: skip
PROFILE_NOTES: Final = (
    "Prefers e-mail contact",
    "Works Tue-Thu only",
    "Hearing impaired - use e-mail or text relay",
    "VIP - Director",
    "Uses own laptop (BYOD)",
    "Part-time, mornings",
    "Left organisation? check with HR",
)

# Forty analysts, five per group in GROUPS order; the login is initial + surname.
ANALYSTS: Final = (
    ("jsmith", "Jane Smith"), ("pbrown", "Paul Brown"), ("kpatel", "Kiran Patel"),
    ("lhughes", "Lisa Hughes"), ("dward", "Dean Ward"),
    ("mjones", "Mark Jones"), ("swilson", "Sam Wilson"), ("acooper", "Alan Cooper"),
    ("rkhan", "Rubina Khan"), ("tgreen", "Tom Green"),
    ("gevans", "Gareth Evans"), ("nfraser", "Neil Fraser"), ("bokafor", "Ben Okafor"),
    ("cwright", "Carol Wright"), ("hlee", "Harry Lee"),
    ("emorris", "Emma Morris"), ("dchen", "David Chen"), ("vroberts", "Vicky Roberts"),
    ("imensah", "Isaac Mensah"), ("fbell", "Fiona Bell"),
    ("gking", "Graham King"), ("pshaw", "Pauline Shaw"), ("mowen", "Martin Owen"),
    ("ahall", "Anne Hall"), ("rlloyd", "Roy Lloyd"),
    ("kwood", "Karen Wood"), ("sahmed", "Sajid Ahmed"), ("jmoore", "Julie Moore"),
    ("lturner", "Liam Turner"), ("dyoung", "Donna Young"),
    ("creid", "Craig Reid"), ("jcampbell", "Jenny Campbell"),
    ("wmitchell", "Will Mitchell"),
    ("ahussain", "Asif Hussain"), ("sharris", "Steve Harris"),
    ("nwatson", "Nina Watson"), ("pmorgan", "Phil Morgan"), ("lclarke", "Lucy Clarke"),
    ("tnowak", "Tomasz Nowak"), ("ejackson", "Emily Jackson"),
)  # fmt: skip
GROUPS: Final = (
    "Service Desk",
    "Desktop Support",
    "Network Team",
    "Applications",
    "Facilities",
    "Telephony",
    "Site Support North",
    "Site Support South",
)
ANALYSTS_PER_GROUP: Final = 5

CATEGORIES: Final = (
    "Email",
    "Printing",
    "Network",
    "Hardware",
    "Software",
    "Accounts",
    "Telephony",
    "Facilities",
)
CATEGORY_HEADINGS: Final = {
    "Email": "IT Services",
    "Printing": "IT Services",
    "Network": "Infrastructure",
    "Hardware": "IT Services",
    "Software": "Applications",
    "Accounts": "Accounts",
    "Telephony": "Telecoms",
    "Facilities": "Estates",
    "": "",
}
# The group a call of each category usually goes to first (index into GROUPS).
CATEGORY_GROUPS: Final = {
    "Email": 3,
    "Printing": 1,
    "Network": 2,
    "Hardware": 1,
    "Software": 3,
    "Accounts": 0,
    "Telephony": 5,
    "Facilities": 4,
    "": 0,
}

CALL_SOURCES: Final = ("Phone", "E-Mail", "Web", "Walk-in", "Voicemail")
CALL_SOURCE_WEIGHTS: Final = (0.45, 0.30, 0.15, 0.06, 0.04)

PRIORITIES: Final = ("1", "2", "3", "4", "5", "")
PRIORITY_WEIGHTS: Final = (0.03, 0.12, 0.45, 0.25, 0.10, 0.05)
UNMAPPED_PRIORITY: Final = "9"

STATUSES: Final = (
    "Open",
    "Closed",
    "Reopened",
    "Pending",
    "On Hold",
    "Waiting on Customer",
    "Resolved",
    "Cancelled",
    "Logged",
    "In Progress",
)
STATUS_OPEN: Final = 0
STATUS_CLOSED: Final = 1
STATUS_REOPENED: Final = 2
STATUS_RESOLVED: Final = 6
STATUS_CANCELLED: Final = 7
STATUS_LOGGED: Final = 8
# Statuses with ClosedBy/ClosedDate/ClosedTime/CloseDesc set; Resolved calls carry only
# CloseDesc and Cause (the resolution lives on the assignments, as at real HEAT sites).
CLOSED_STATUSES: Final = (STATUS_CLOSED, STATUS_CANCELLED)
# Weights of the statuses of an old call and of a call logged in the last weeks.
OLD_STATUS_WEIGHTS: Final = (
    0.006,
    0.915,
    0.002,
    0.004,
    0.004,
    0.004,
    0.02,
    0.04,
    0.002,
    0.003,
)
NEW_STATUS_WEIGHTS: Final = (0.16, 0.40, 0.03, 0.06, 0.05, 0.07, 0.08, 0.02, 0.05, 0.08)

JOURNAL_TYPES: Final = ("Note", "E-Mail", "Phone Call", "Customer Update")
JOURNAL_TYPE_WEIGHTS: Final = (0.45, 0.25, 0.18, 0.12)

CAUSES: Final = (
    "User Error", "Hardware Failure", "Software Bug", "Configuration", "Network Outage",
    "Training Need", "Third Party", "Duplicate", "No Fault Found", "Change Request",
)  # fmt: skip
RESOLUTION_CODES: Final = (
    "Fixed", "Advice given", "Replaced part", "Software reinstalled",
    "Account unlocked", "No fault found", "Workaround applied",
    "Closed at customer request",
    "Config changed", "Supplier fixed",
)  # fmt: skip

# Fault descriptions per category: what an incident says.
FAULTS: Final = {
    "Email": (
        "Outlook will not open", "Cannot send e-mails with attachments",
        "Mailbox full warning", "E-mails stuck in outbox",
        "Outlook asks for password repeatedly",
        "Not receiving external e-mails", "Calendar invites not arriving",
        "Out of office will not switch off",
    ),
    "Printing": (
        "Printer jammed", "Printer offline", "Prints come out blank",
        "Cannot print to the office printer", "Scanner not sending to e-mail",
        "Printer showing error 50.4", "Toner light on but new cartridge fitted",
    ),
    "Network": (
        "No network connection at desk", "Wi-Fi keeps dropping", "Internet very slow",
        "Cannot reach shared drive", "Network port not working",
        "Remote desktop will not connect", "Site link down",
    ),
    "Hardware": (
        "Laptop will not power on", "Monitor flickering", "Keyboard keys not working",
        "PC very slow to start", "Docking station not detecting laptop",
        "Laptop battery not charging", "Blue screen on start-up", "Mouse not working",
    ),
    "Software": (
        "Excel crashes when saving", "Donor database error on login",
        "Word document will not open", "Finance system very slow",
        "Case management system freezing", "Adobe Reader error opening PDF",
        "Payroll report gives wrong totals",
    ),
    "Accounts": (
        "Account locked out", "Cannot log in to PC", "Access denied to team folder",
        "Login script not running", "Account disabled in error",
    ),
    "Telephony": (
        "Desk phone has no dial tone", "Voicemail not working",
        "Mobile not syncing e-mail",
        "Call transfer failing", "Headset not working",
    ),
    "Facilities": (
        "Heating not working in meeting room", "Door entry fob not working",
        "Lift out of order", "Leak in the kitchen", "Lights flickering in office",
    ),
}  # fmt: skip
REQUESTS: Final = {
    "Software": (
        "Please install Adobe Acrobat", "Request for Visio licence",
        "Please install the new donor database client", "Need Zoom installed",
    ),
    "Hardware": (
        "Request for a second monitor", "New keyboard and mouse needed",
        "Request for a laptop docking station", "Replacement laptop charger needed",
    ),
    "Accounts": (
        "Access to Finance shared drive needed",
        "Please add me to the Fundraising group",
        "New distribution list for regional managers",
    ),
    "Telephony": ("Request for a mobile phone", "Please set up call forwarding"),
    "Facilities": ("Request for desk move", "Need a new door fob"),
}  # fmt: skip
# Descriptions of calls logged as Incident that read like requests (planted).
REQUEST_LIKE_INCIDENTS: Final = (
    ("Software", "Please install Adobe Acrobat Pro on my laptop"),
    ("Hardware", "New laptop request for our volunteer coordinator"),
    ("Accounts", "Could you please set up a mailbox for the new fundraising team"),
    ("Software", "Please can I have Microsoft Project installed"),
)
OTHER_TEXTS: Final = {
    "Password Reset": (
        ("Accounts", "Password reset required"), ("Accounts", "Forgotten password"),
        ("Accounts", "Password expired while on leave"),
        ("Email", "Webmail password reset"),
    ),
    "New Starter": (
        ("Accounts", "New starter - account and e-mail needed"),
        ("Accounts", "New volunteer needs a login"),
        ("Accounts", "New starter Monday - please set up PC and phone"),
    ),
    "Equipment Loan": (
        ("Hardware", "Loan laptop needed for conference"),
        ("Hardware", "Projector loan for training day"),
        ("Hardware", "Loan of a 4G dongle for home working"),
    ),
    "Information": (
        ("", "How do I set up my e-mail signature?"),
        ("Email", "How to share a calendar"),
        ("Software", "Where is the expenses form?"),
        ("", "Question about the IT policy"),
        ("Network", "How do I connect to the VPN from home?"),
    ),
    "Problem": (
        ("Network", "Recurring site link outages at Glasgow"),
        ("Software", "Finance system slow every month end"),
        ("Email", "Intermittent mail delivery delays"),
        ("Hardware", "Batch of laptops with failing batteries"),
    ),
    "Complaint": (
        ("", "Complaint about response time to my call"),
        ("Facilities", "Complaint about the state of the kitchen"),
        ("Telephony", "Complaint - phone lines always engaged"),
    ),
}  # fmt: skip

# Call types with their weights, where their descriptions come from
# ("fault:<categories>", all categories when empty, "request" or "other") and which
# closing texts they get.
CALL_TYPES: Final = (
    ("Incident", 0.30, "fault:", "fault"),
    ("Hardware Fault", 0.10, "fault:Hardware,Printing", "fault"),
    ("Software Fault", 0.10, "fault:Software,Email", "fault"),
    ("Network Fault", 0.06, "fault:Network", "fault"),
    ("Password Reset", 0.12, "other", "request"),
    ("Service Request", 0.12, "request", "request"),
    ("New Starter", 0.04, "other", "request"),
    ("Equipment Loan", 0.03, "other", "request"),
    ("Information", 0.07, "other", "advice"),
    ("Problem", 0.03, "other", "fault"),
    ("Complaint", 0.03, "other", "advice"),
)
INCIDENT: Final = 0

DETAILS: Final = (
    "It started this morning.", "This has happened a few times this week.",
    "Colleagues here are fine.", "I have already tried restarting.",
    "Quite urgent, we have a funding deadline.", "Not urgent.",
    "Happens every day after lunch.", "Error message attached.",
    "I am working from home today.", "Can someone call me back?",
    "It worked fine yesterday.", "Affects the whole team.",
)  # fmt: skip
CLOSE_TEXTS: Final = {
    "fault": (
        "Issue resolved, customer happy.",
        "Restarted the service and tested with customer.",
        "Replaced faulty part.",
        "Reinstalled application and tested.",
        "Configuration corrected.",
        "Supplier engineer attended and fixed.",
        "No fault found, customer to call back if it recurs.",
        "Cleared print queue and restarted spooler.",
        "Workaround given, fix to follow.",
    ),
    "request": (
        "Request completed.",
        "Installed and tested with customer.",
        "Password reset and account unlocked.",
        "Account and mailbox set up.",
        "Equipment issued, returned in good order.",
        "Access granted after manager approval.",
    ),
    "advice": (
        "Advice given over the phone.",
        "Explained the process and sent the guide.",
        "Apologised and explained the delay.",
        "Passed to the manager to follow up.",
    ),
}
CANCEL_TEXTS: Final = (
    "Cancelled - duplicate call.", "Cancelled at customer request.",
    "Cancelled - logged in error.",
)  # fmt: skip

# Planted repeat-incident clusters: (category, near-identical descriptions).
CLUSTER_THEMES: Final = (
    ("Email", (
        "Outlook keeps crashing when opening shared calendar",
        "Outlook keeps crashing when opening the shared calendar",
        "outlook keeps crashing when opening shared calendar",
        "Outlook keeps crashing when I open the shared calendar",
        "Outlook keeps crashing when opening shared calendar - urgent",
        "Outlook keeps crashing when opening team shared calendar",
    )),
    ("Printing", (
        "Second floor printer jams on every double-sided job",
        "Second floor printer jams on double-sided jobs",
        "2nd floor printer jams on every double-sided job",
        "Second floor printer jams on all double-sided jobs",
    )),
    ("Network", (
        "VPN drops every few minutes when working from home",
        "VPN drops every few minutes working from home",
        "VPN drops out every few minutes when working from home",
        "vpn drops every few minutes when working from home",
    )),
    ("Software", (
        "Donor database freezes when running the Gift Aid report",
        "Donor database freezes running Gift Aid report",
        "Donor database freezes when running Gift Aid report again",
        "donor database freezes when running the gift aid report",
    )),
    ("Telephony", (
        "Desk phone drops calls transferred from reception",
        "Desk phone drops calls transferred by reception",
        "Desk phone keeps dropping calls transferred from reception",
        "desk phone drops transferred calls from reception",
    )),
)  # fmt: skip
CLUSTER_SUFFIXES: Final = ("", ".", " again.", " since this morning.", " - any ideas?")

JOURNAL_TEXTS: Final = {
    "Note": (
        "Checked event logs, nothing obvious.",
        "Remote session to the PC, cleared cache.",
        "Waiting for part from supplier.", "Escalated to second line.",
        "Tested from another PC, same problem.", "Applied latest updates.",
        "Logged with supplier, ref to follow.", "Rebooted switch in comms room.",
    ),
    "E-Mail": (
        "Hi,\r\nCould you give me an update on this please?\r\nThanks",
        "Hello,\r\nThis is still happening.\r\nRegards",
        "Hi,\r\nThat seems to have worked, thank you!",
        "Morning,\r\nAny news? We need this for Friday.",
    ),
    "Phone Call": (
        "Called customer, no answer. Left voicemail.",
        "Spoke to customer, issue still occurring.",
        "Customer called to chase.", "Talked customer through the fix.",
    ),
    "Customer Update": (
        "Customer confirmed the fix works.", "Customer chased for update.",
        "Customer says it can wait until next week.",
        "Customer unavailable until Monday.",
    ),
}  # fmt: skip
# Correct non-ASCII journal texts; planted ones are written as mojibake (their UTF-8
# bytes decoded as cp1252), which ftfy.fix_text turns back into exactly these.
NON_ASCII_TEXTS: Final = (
    "Customer says the café printer is broken again \u2013 quoted £45 for the part",
    "Invoice for €120 received from supplier \u2013 passed to Finance",
    "Zoë reports the fix didn't work… will try again tomorrow",
    "Renée moved to the Leeds office \u2013 new desk phone needed",
    "Agreed with Siân to replace the façade screen, cost £30",
)
RTF_HEADER: Final = (
    "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fswiss Arial;}}"
    "\\viewkind4\\uc1\\pard\\f0\\fs20 "
)
RTF_BODIES: Final = (
    "Spoke to customer\\par Replaced toner\\par",
    "Caf\\'e9 laptop re-imaged, cost \\'a340\\par Customer happy\\par",
    "\\b Escalated\\b0  to Network Team\\par See previous e-mail\\par",
    "Engineer visit booked for Tuesday\\par",
)
# Legacy control characters found in memo text: NUL padding, the DOS end-of-file marker,
# vertical tab from pasted spreadsheets, escape and bell from terminal captures.
CONTROL_CHARS: Final = ("\x00", "\x1a", "\x0b", "\x1b", "\x07")
HTML_TEMPLATE: Final = "<p>{0}</p><p>{1}&nbsp;</p><p>Sent from the staff portal</p>"
SCRIPT_DESCRIPTION: Final = "<p>Test of the web form</p><script>alert(1)</script>"
# RecvdDate values no tolerant date parser can read.
UNPARSEABLE_DATES: Final = (
    "2015-02-30",
    "N/A",
    "31/13/2015",
    "00/00/0000",
    "2014-13-01",
    "TBC",
    "??/??/????",
    "2015-06-31",
)
TEMP_FIELD_VALUES: Final = ("x", "chk", "see email", "1", "OLDREF 4471", "migrated")
