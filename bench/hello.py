"""The baseline: a Flask hello world, served by the same gunicorn settings as the app."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """Return a constant greeting; the cheapest response Flask can give."""
    return "Hello, World!"
