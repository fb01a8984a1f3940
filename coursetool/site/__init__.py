"""The course as a website (``python -m coursetool site``) and the teaching team's handouts (``handouts``).

``course`` reads what the home page says about each lab from the parsed sources; ``pages``
turns a release notebook into a lab page; ``project`` writes the Sphinx project and builds it;
``leaks`` finds solution code, hidden tests and probes in built files; ``executed`` keeps the
solution notebooks the course check runs; ``handouts`` makes one offline HTML file per lab;
``mathjax`` finds the MathJax files served with the pages; ``browser`` drives headless Chromium.
"""
