# Build the wheel: the packages with their data (region codes, login template,
# stylesheet), as pyproject.toml declares them. The image installs only the wheel.
FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY application ./application
COPY projections ./projections
COPY interfaces ./interfaces
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
# pyzbar needs the system library libzbar0 to decode QR images.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libzbar0 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# var/ (relative to here) holds secrets.env: the keys 'rantai db init' writes.
WORKDIR /app
ENV PYTHONUNBUFFERED=1 \
    RANTAI_DATABASE_URL=postgresql://postgres:rantai@db:5432/rantai
EXPOSE 8000
CMD ["rantai", "serve", "--host", "0.0.0.0", "--port", "8000"]
