FROM python:3.11-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libzbar0 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY application ./application
COPY projections ./projections
COPY interfaces ./interfaces
COPY data ./data
RUN pip install --no-cache-dir .
ENV RANTAI_DATABASE_URL=postgresql://postgres:rantai@db:5432/rantai
EXPOSE 8000
CMD ["rantai", "serve", "--host", "0.0.0.0", "--port", "8000"]
