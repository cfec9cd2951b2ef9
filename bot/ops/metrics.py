"""Prometheus metrics for `kbot run`, in a registry of their own (passed in, never global)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from bot.core.messages import Answer

_LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120)
_LAG_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.2, 0.5, 1, 2)
_FAST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.questions = Counter("kbot_questions", "Questions received", ["platform"], registry=self.registry)
        self.answers = Counter("kbot_answers", "Answers delivered", ["platform", "grounded"], registry=self.registry)
        self.errors = Counter("kbot_errors", "Questions that ended in an error message", ["platform", "kind"],
                              registry=self.registry)
        self.duplicates = Counter("kbot_duplicate_deliveries", "Platform events seen before and skipped",
                                  ["platform"], registry=self.registry)
        self.latency = Histogram("kbot_answer_latency_seconds", "Question to final answer", ["platform"],
                                 buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.first_token = Histogram("kbot_time_to_first_token_seconds", "Question to the first streamed token",
                                     ["platform"], buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.retrieval = Histogram("kbot_retrieval_seconds", "Knowledge base retrieval time", ["platform"],
                                   buckets=_FAST_BUCKETS, registry=self.registry)
        self.llm_tokens = Counter("kbot_llm_tokens", "Streamed answer tokens", ["platform"], registry=self.registry)
        self.loop_lag = Histogram("kbot_event_loop_lag_seconds", "How late a 50 ms timer fires on kbot's event loop",
                                  buckets=_LAG_BUCKETS, registry=self.registry)
        self.commands = Counter("kbot_commands", "/kb commands run", ["platform", "command"], registry=self.registry)
        self.feedback = Counter("kbot_feedback", "Feedback clicks", ["platform", "vote"], registry=self.registry)
        self.refused = Counter("kbot_refused", "Messages refused before answering (not_approved, too_long, "
                               "rate_person, rate_channel)", ["platform", "reason"], registry=self.registry)

    def answered(self, platform: str, answer: Answer, latency_s: float) -> None:
        self.answers.labels(platform, str(answer.grounded).lower()).inc()
        self.latency.labels(platform).observe(latency_s)
        if answer.first_token_s is not None:
            self.first_token.labels(platform).observe(answer.first_token_s)
        if answer.retrieval_s is not None:
            self.retrieval.labels(platform).observe(answer.retrieval_s)
        self.llm_tokens.labels(platform).inc(answer.tokens)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
