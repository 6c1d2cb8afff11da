"""Site-wide pages: home dashboards, the support page, health check, errors."""
