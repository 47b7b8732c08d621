"""The Scrapy project of unionfeed: settings, the generic config-driven spider and the store pipeline."""
