# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --system --create-home --uid 10001 kinga
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/kinga
COPY alembic.ini ./
COPY migrations ./migrations
COPY geodata ./geodata
COPY app ./app
ENV PATH=/opt/venv/bin:$PATH \
    KINGA_HOST=0.0.0.0 \
    KINGA_PORT=8000 \
    KINGA_ENVIRONMENT=production \
    KINGA_GEODATA_DIR=/srv/kinga/geodata \
    PYTHONUNBUFFERED=1
USER kinga
EXPOSE 8000
# KINGA_DATABASE_URL must point at a PostGIS database; migrations run before the server starts.
CMD ["sh", "-c", "alembic upgrade heads && exec uvicorn app.main:app --host \"$KINGA_HOST\" --port \"$KINGA_PORT\" --proxy-headers"]
