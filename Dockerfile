FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY linkage ./linkage
COPY graph ./graph
COPY api ./api
COPY analytics ./analytics
COPY bench ./bench
RUN pip install --no-cache-dir . && useradd --system --create-home hoso && mkdir -p /var/lib/hoso && chown hoso /var/lib/hoso
USER hoso
EXPOSE 8000
CMD ["hoso", "serve", "--host", "0.0.0.0", "--port", "8000"]
