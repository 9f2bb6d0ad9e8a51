# The image docs/deploy.md's compose file runs: `docker build -t reelay .`
# PyAV, NumPy and Pillow ship manylinux wheels (FFmpeg included), so no system packages are needed.
FROM python:3.12-slim

WORKDIR /opt/reelay
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir ".[scale]" && useradd --create-home --uid 10001 reelay

USER reelay
ENV REELAY_DATA_DIR=/home/reelay/data
EXPOSE 8000
CMD ["reelay", "serve", "--host", "0.0.0.0", "--port", "8000"]
