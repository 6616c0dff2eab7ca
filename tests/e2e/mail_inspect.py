#!/usr/bin/python3
"""Parses one email file with Python's `email` package and prints what casewatch's tests check,
as one JSON object: headers, the part structure, decoded bodies, the attachment, defects and
the longest line. Used by tests/daemon/mailer_test.cpp and tests/e2e/test_mail.py."""
import email
import email.policy
import json
import sys


def inspect(raw):
    message = email.message_from_bytes(raw, policy=email.policy.default)
    result = {
        "headers": {name: str(message[name]) for name in
                    ("From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted",
                     "MIME-Version") if message[name] is not None},
        "structure": [],
        "text": None,
        "html": None,
        "attachments": [],
        "defects": [str(d) for d in message.defects],
        "longest_line": max((len(line) for line in raw.split(b"\r\n")), default=0),
        "bare_lf": b"\n" in raw.replace(b"\r\n", b""),
    }
    for part in message.walk():
        result["structure"].append(part.get_content_type())
        result["defects"] += [str(d) for d in part.defects]
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment":
            result["attachments"].append({
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "content": part.get_payload(decode=True).decode("utf-8"),
            })
        elif part.get_content_type() == "text/plain":
            result["text"] = part.get_content()
        elif part.get_content_type() == "text/html":
            result["html"] = part.get_content()
    return result


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as f:
        print(json.dumps(inspect(f.read())))
