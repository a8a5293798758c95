"""The support bot: conversation, answers, handoff, HTTP API and command line."""
