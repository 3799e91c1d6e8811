"""Between sessions, on the engine's side: reminders worded when due, check-ins, homework
reviews, /reminders settings, time zones and the side flow they share.
"""
