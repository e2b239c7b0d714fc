# lib/global/bounce - parse and classify what comes back to the bounce
# domain: DSNs, provider bounce formats, ARF reports, auto-replies, replies
