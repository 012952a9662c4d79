-- GET a page as a logged-in member: the session cookie of a real login (bench/member.py).
-- The User-Agent is the one the login sent: Flask-Login's session protection compares it.
wrk.headers["Cookie"] = os.getenv("BENCH_MEMBER_COOKIE")
wrk.headers["User-Agent"] = os.getenv("BENCH_MEMBER_AGENT")
