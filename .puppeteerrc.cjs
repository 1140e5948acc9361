// Never let puppeteer download a browser: tests drive the system Chromium (Debian's /usr/bin/chromium).
module.exports = { skipDownload: true };
