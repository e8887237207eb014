# The Patrol image for docker-compose.yml: one image, three roles (api, crawler, one-off commands).
# NOT built on the development machine (no Docker there, and no registry but PyPI, apt and npm);
# docs/DEPLOYMENT.md says what was and was not verified.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATROL_HOME=/var/lib/patrol
WORKDIR /opt/patrol
COPY pyproject.toml constraints.txt README.md ./
COPY api ./api
COPY app ./app
COPY crawlers ./crawlers
COPY demosite ./demosite
COPY nlp ./nlp
COPY patrol ./patrol
COPY search ./search
COPY scrapy.cfg ./
RUN pip install --no-cache-dir -c constraints.txt . \
    && useradd --system --home-dir /var/lib/patrol --create-home patrol
USER patrol
VOLUME /var/lib/patrol
EXPOSE 8000
ENTRYPOINT ["patrol"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
