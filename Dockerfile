# The ledger worker image used by docker-compose.yml.
FROM python:3.11-slim
WORKDIR /opt/session-ledger
COPY pyproject.toml README.md ./
COPY ledger ledger
COPY monitors monitors
COPY projections projections
COPY schemas schemas
RUN pip install --no-cache-dir .
RUN useradd --system --home /var/lib/ledger ledger && mkdir -p /var/lib/ledger \
    && chown ledger /var/lib/ledger
USER ledger
EXPOSE 6066
CMD ["ledger", "worker"]
