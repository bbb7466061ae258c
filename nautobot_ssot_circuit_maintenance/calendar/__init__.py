"""The calendar: month, week and list layouts, the iCalendar writer, the subscribable feed and the overview's data."""
