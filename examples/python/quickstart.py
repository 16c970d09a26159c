from replyguard import Guard

guard = Guard("policies")  # compile once; share it across threads
result = guard.check("Your card 4111 1111 1111 1111 is on file.", route="refunds")
print(result.verdict, [f"{r.category} -> {r.action}" for r in result.reasons])
print(result.redacted)
